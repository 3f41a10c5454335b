"""/Bulk (RFC 7644 §3.7): many operations in one request, each run through the ordinary views.

Every operation is dispatched to the same view (and so the same validation, services and
error translation) as a single request would be.  ``bulkId:<id>`` references in paths and
data are replaced by the ids of resources created earlier in the request; operations
whose references are not resolved yet wait for a later pass (§3.7.2 lets the order be the
service's), and references that never resolve fail clearly.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import current_app, g, request

from provisioning import limits
from scim.auth import BULK_PRINCIPAL, charge
from scim.blueprint import bp, check_members_named, json_body, scim_response, setting
from scim.errors import (
    InvalidSyntaxError,
    InvalidValueError,
    PayloadTooLargeError,
    ScimError,
)
from scim.resources import members_named

BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
METHODS = ("POST", "PUT", "PATCH", "DELETE")
_PATH_RE = re.compile(r"^/(Users|Groups)(/[^/?#]+)?$")
_REF_RE = re.compile(r"^bulkId:(.+)$")
_PATH_REF_RE = re.compile(r"bulkId:([^/]+)")


def _op_refs(op: dict) -> set[str]:
    path = op.get("path")
    return _refs(op.get("data")) | (set(_PATH_REF_RE.findall(path)) if isinstance(path, str) else set())


def _refs(value: Any) -> set[str]:
    if isinstance(value, str):
        match = _REF_RE.match(value)
        return {match[1]} if match else set()
    if isinstance(value, dict):
        return set().union(*(_refs(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value)) if value else set()
    return set()


def _resolve(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        match = _REF_RE.match(value)
        return ids[match[1]] if match else value
    if isinstance(value, dict):
        return {k: _resolve(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, ids) for v in value]
    return value


def _validate(body: Any) -> tuple[list[dict], int | None]:
    if not isinstance(body, dict):
        raise InvalidSyntaxError("A bulk request must be a JSON object.")
    schemas = body.get("schemas")
    if schemas is not None and (not isinstance(schemas, list) or BULK_REQUEST not in schemas):
        raise InvalidSyntaxError(f'schemas must be ["{BULK_REQUEST}"].')
    ops = body.get("Operations")
    if not isinstance(ops, list) or not ops:
        raise InvalidSyntaxError("Operations must be a non-empty list.")
    maximum = setting("SCIM_BULK_MAX_OPERATIONS")
    if len(ops) > maximum:
        # RFC 7644 §3.7.4: 413, naming the limit exceeded (its example error has no scimType).
        raise PayloadTooLargeError(f"The bulk request has {len(ops)} operations, more than maxOperations ({maximum}).")
    fail_on = body.get("failOnErrors")
    if fail_on is not None and (isinstance(fail_on, bool) or not isinstance(fail_on, int) or fail_on < 1):
        raise InvalidValueError("failOnErrors must be a positive integer.")
    for index, op in enumerate(ops):
        if not isinstance(op, dict):
            raise InvalidSyntaxError(f"Operations[{index}] must be an object.")
    # The members one request may name hold for the Bulk as a whole, or maxOperations group PATCHes
    # would multiply the bound.
    named = sum(
        members_named(op.get("data"), patch=str(op.get("method")).upper() == "PATCH")
        for op in ops
        if str(op.get("path", "")).startswith("/Groups")
    )
    check_members_named(named, "This bulk request")
    return ops, fail_on


def _error(op: dict, method: Any, exc: ScimError) -> dict:
    result = {"method": method, "status": str(exc.status), "response": exc.body()}
    if op.get("bulkId") is not None:
        result["bulkId"] = op["bulkId"]
    return result


def _dispatch(op: dict, ids: dict[str, str]) -> tuple[dict, str | None]:
    """Run one operation through its view; returns its result and the id it created."""
    method = op.get("method")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise InvalidValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}.")
    method = method.upper()
    path = op.get("path")
    if isinstance(path, str):
        path = _PATH_REF_RE.sub(lambda m: ids[m[1]], path)
    if not isinstance(path, str) or not _PATH_RE.match(path):
        raise InvalidValueError(f"path must be /Users, /Groups or one of their resources, got {op.get('path')!r}.")
    if (method == "POST") == bool(_PATH_RE.match(path)[2]):
        raise InvalidValueError(
            f"{method} needs {'a collection' if method == 'POST' else 'a resource'} path, got {path!r}."
        )
    headers = {"Content-Type": "application/scim+json"}  # authenticated as the Bulk (BULK_PRINCIPAL)
    if isinstance(op.get("version"), str):
        headers["If-Match"] = op["version"]
    data = json.dumps(_resolve(op["data"], ids)) if "data" in op else None
    # A successful operation is reported by its location and version, without its resource (RFC 7644
    # §3.7.3 lets the body be omitted): leaving out the attributes a view loads apart spares loading a
    # user's groups and a group's members for nothing.
    # (A group PATCH answers 204 without loading anything, and keeps doing so.)
    renders = method in ("POST", "PUT") or (method == "PATCH" and path.startswith("/Users"))
    query = "?excludedAttributes=groups,members" if renders else ""
    with current_app.test_request_context(
        f"{bp.url_prefix}{path}{query}",
        method=method,
        data=data,
        headers=headers,
        base_url=request.host_url,
        environ_overrides={BULK_PRINCIPAL: g.scim_principal},
    ):
        response = current_app.full_dispatch_request()
    result: dict[str, Any] = {"method": method, "status": str(response.status_code)}
    if op.get("bulkId") is not None:
        result["bulkId"] = op["bulkId"]
    payload = response.get_json(silent=True) if response.status_code >= 400 else None
    if payload is not None:
        result["response"] = payload
        return result, None
    location = response.headers.get("Location") or (
        f"{request.url_root.rstrip('/')}{bp.url_prefix}{path}" if method != "DELETE" else None
    )
    if location:
        result["location"] = location
    if response.headers.get("ETag"):
        result["version"] = response.headers["ETag"]
    created = location.rsplit("/", 1)[-1] if method == "POST" and location else None
    return result, created


@bp.post("/Bulk")
def bulk():
    ops, fail_on = _validate(json_body("SCIM_BULK_MAX_PAYLOAD_SIZE"))
    # Its arrival counted one request; the rest of its weight is charged before any operation runs, so
    # a Bulk is refused whole (429, Retry-After) or runs whole, never 429s inside a 200 (issue 18 #5).
    charge(limits.bulk_cost(len(ops)))
    ids: dict[str, str] = {}
    failed: set[str] = set()
    results: dict[int, dict] = {}
    errors = 0
    pending = list(range(len(ops)))
    while pending and (fail_on is None or errors < fail_on):
        ready = [i for i in pending if not _op_refs(ops[i]) - set(ids)]
        if not ready:
            ready = pending[:1]  # the rest refer to bulkIds that failed or never appear
        for index in ready:
            if fail_on is not None and errors >= fail_on:
                break
            pending.remove(index)
            op = ops[index]
            missing = _op_refs(op) - set(ids)
            try:
                if missing:
                    raise ScimError(
                        f"bulkId {sorted(missing)[0]!r} does not name a resource created in this request.",
                        status=409,
                        scim_type="invalidValue",
                    )
                result, created = _dispatch(op, ids)
            except ScimError as exc:
                result, created = _error(op, op.get("method"), exc), None
            if int(result["status"]) >= 400:
                errors += 1
                if op.get("bulkId") is not None:
                    failed.add(str(op["bulkId"]))
            elif created and op.get("bulkId") is not None:
                ids[str(op["bulkId"])] = created
            results[index] = result
    return scim_response({"schemas": [BULK_RESPONSE], "Operations": [results[i] for i in sorted(results)]})
