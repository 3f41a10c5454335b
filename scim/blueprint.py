"""The /scim/v2 blueprint and what every SCIM view shares: body parsing, responses, ETags, paging."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, request

from provisioning import limits
from scim.auth import authenticate_request
from scim.errors import (
    SCIM_JSON,
    InvalidSyntaxError,
    InvalidValueError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    PreconditionFailedError,
    register,
)
from scim.resources import etag
from web.text_input import check_json, check_request

bp = Blueprint("scim", __name__, url_prefix="/scim/v2")
register(bp)

# Defaults (provisioning/limits.py), overridable per app through app.config; the views enforce and
# /ServiceProviderConfig advertises what setting() answers, so the two never differ.
DEFAULTS = {
    "SCIM_MAX_PAGE_SIZE": None,  # None: the service's PAGE_SIZE_MAX setting
    "SCIM_BULK_MAX_OPERATIONS": limits.BULK_MAX_OPERATIONS,
    "SCIM_BULK_MAX_PAYLOAD_SIZE": limits.BULK_MAX_PAYLOAD_SIZE,
    "SCIM_MAX_PAYLOAD_SIZE": 10 * 1024 * 1024,  # any other request (a PUT of a big group lists every member)
    "SCIM_MAX_MEMBERS_PER_REQUEST": limits.MEMBERS_PER_REQUEST,
    "SCIM_LIST_MEMBERS_MAX": limits.LIST_MEMBERS_MAX,
}


def setting(name: str) -> Any:
    value = current_app.config.get(name, DEFAULTS[name])
    if name == "SCIM_MAX_PAGE_SIZE" and value is None:
        value = current_app.extensions["provisioning"].settings.page_size_max
    return value


def check_members_named(count: int, where: str) -> None:
    """Refuse a request naming more members than one request may (413 before anything is applied;
    like RFC 7644 §3.7.4's Bulk limits, the detail names the limit and there is no scimType)."""
    limit = setting("SCIM_MAX_MEMBERS_PER_REQUEST")
    if count > limit:
        raise PayloadTooLargeError(
            f"{where} names {count} members; at most {limit} may be named in one request "
            f"(SCIM_MAX_MEMBERS_PER_REQUEST). Send them in several PATCH requests."
        )


@bp.before_request
def _authenticate() -> None:
    authenticate_request()
    # The body is decoded (and checked) by json_body(), within SCIM's own size limits.
    check_request(json_body=False)


def base_url() -> str:
    """Where this service's SCIM resources live, as clients reach it (meta.location, $ref)."""
    return request.url_root.rstrip("/") + (bp.url_prefix or "")


def json_body(limit_setting: str = "SCIM_MAX_PAYLOAD_SIZE") -> Any:
    """The request's JSON, whatever the Content-Type: application/scim+json (with a charset),
    application/json, or none at all — identity providers send all three (RFC 7644 §3.1)."""
    limit = setting(limit_setting)
    # RFC 7644 §3.7.4: the 413 "MUST specify the limit exceeded"; a Bulk's is maxPayloadSize.
    named = " (maxPayloadSize)" if limit_setting == "SCIM_BULK_MAX_PAYLOAD_SIZE" else ""
    too_large = f"The request body is larger than the maximum of {limit} bytes{named}."
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLargeError(too_large)
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise PayloadTooLargeError(too_large)
    if not raw.strip():
        raise InvalidSyntaxError("The request body is empty; a JSON object is expected.")
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        position = f" (line {exc.lineno}, column {exc.colno})" if hasattr(exc, "lineno") else ""
        raise InvalidSyntaxError(f"The request body is not valid JSON{position}.") from None
    check_json(doc)
    return doc


def scim_response(doc: Any, status: int = 200, *, version: int | None = None, location: str | None = None) -> Response:
    response = Response(json.dumps(doc), status=status, mimetype=SCIM_JSON)
    if version is not None:
        response.headers["ETag"] = etag(version)
    if location:
        response.headers["Location"] = location
    return response


def not_modified(version: int) -> Response | None:
    """304 when the client's If-None-Match names the current version (RFC 7644 §3.14)."""
    if request.if_none_match and request.if_none_match.contains_weak(str(version)):
        response = Response(status=304)
        response.headers["ETag"] = etag(version)
        return response
    return None


def if_match_version() -> int | None:
    """The version an If-Match header requires, or None when there is none (or it is "*")."""
    header = request.headers.get("If-Match")
    if not header:
        return None
    tags = request.if_match
    if tags.star_tag:
        return None
    versions = [t for t in tags.as_set(include_weak=True) if t.isdigit()]
    if not versions:
        raise PreconditionFailedError(f"If-Match {header!r} names no version of this resource.")
    return int(versions[0])


def resource_id(raw: str, resource: str) -> int:
    """Our ids are positive integers; anything else names nothing (404, never a 500)."""
    if not raw.isdigit() or not 0 < int(raw) < 2**63:
        raise NotFoundError(f"No {resource} with id {raw!r}.")
    return int(raw)


def int_param(params: dict, name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidValueError(f"{name} must be an integer, got {value!r}.")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidValueError(f"{name} must be an integer, got {value!r}.") from None
    return max(min(number, 2**62), -(2**62))


@bp.route("/<path:unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def _unknown(unknown: str):
    # Routing errors never reach blueprint handlers; this keeps them in SCIM form.
    first = unknown.split("/", 1)[0]
    if first in ("Users", "Groups", "Bulk", "ServiceProviderConfig", "Schemas", "ResourceTypes", ".search"):
        raise MethodNotAllowedError(f"{request.method} is not supported on /{unknown}.")
    raise NotFoundError(f"No SCIM endpoint at /{unknown}.")
