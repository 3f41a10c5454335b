"""SCIM errors (RFC 7644 §3.12): one exception class per error type, always rendered in SCIM form.

Domain errors from the services are translated here, so views only raise and never format.
Identity providers retry 5xx responses forever, so bad client data must end as a 4xx.
"""

from __future__ import annotations

import json
import logging

from flask import Response, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from provisioning.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    InvalidText,
    LimitExceeded,
    NotFound,
    VersionMismatch,
)
from provisioning.incidents import log_unexpected
from web.observability import DATABASE_UNAVAILABLE, UNAVAILABLE_MESSAGE, UNAVAILABLE_RETRY_AFTER

log = logging.getLogger(__name__)

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_JSON = "application/scim+json"


class ScimError(Exception):
    """Base class; ``status`` is the HTTP status, ``scim_type`` the RFC 7644 §3.12 scimType (or None)."""

    status = 400
    scim_type: str | None = None

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        scim_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if scim_type is not None:
            self.scim_type = scim_type
        self.headers = headers or {}

    def body(self) -> dict:
        body = {"schemas": [ERROR_SCHEMA], "status": str(self.status), "detail": self.detail}
        if self.scim_type:
            body["scimType"] = self.scim_type
        return body


class InvalidFilterError(ScimError):
    scim_type = "invalidFilter"


class TooManyError(ScimError):
    scim_type = "tooMany"


class UniquenessError(ScimError):
    status = 409
    scim_type = "uniqueness"


class MutabilityError(ScimError):
    scim_type = "mutability"


class InvalidSyntaxError(ScimError):
    scim_type = "invalidSyntax"


class InvalidPathError(ScimError):
    scim_type = "invalidPath"


class NoTargetError(ScimError):
    scim_type = "noTarget"


class InvalidValueError(ScimError):
    scim_type = "invalidValue"


class InvalidVersionError(ScimError):
    scim_type = "invalidVers"


class SensitiveError(ScimError):
    scim_type = "sensitive"


class NotFoundError(ScimError):
    status = 404


class UnauthorizedError(ScimError):
    status = 401

    def __init__(self, detail: str) -> None:
        # RFC 6750 §3: a 401 names the scheme the client should use.
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="SCIM"'})


class ForbiddenError(ScimError):
    status = 403


class PreconditionFailedError(ScimError):
    status = 412


class PayloadTooLargeError(ScimError):
    status = 413


class MethodNotAllowedError(ScimError):
    status = 405


class NotImplementedScimError(ScimError):
    status = 501


def from_domain(exc: DomainError) -> ScimError:
    """Translate a service's refusal into the SCIM error a client understands."""
    message = exc.message
    if (
        isinstance(exc, InvalidInput)
        and not isinstance(exc, InvalidText)
        and isinstance(exc.details, dict)
        and exc.details
    ):
        where = "; ".join(
            f"{field}: {' '.join(map(str, msgs if isinstance(msgs, list) else [msgs]))}"
            for field, msgs in exc.details.items()
        )
        message = f"{message} ({where})"
    if isinstance(exc, InvalidText) and exc.field == "filter":
        # A filter (the query parameter or a /.search body's member) is invalidFilter, RFC 7644 §3.4.2.2.
        return InvalidFilterError(message)
    if isinstance(exc, Conflict):
        # An automatic group's members follow its rule: that is not a uniqueness clash.
        if exc.field == "members":
            return MutabilityError(message)
        return UniquenessError(message)
    if isinstance(exc, NotFound):
        return NotFoundError(message)
    if isinstance(exc, VersionMismatch):
        return PreconditionFailedError(message)
    if isinstance(exc, LimitExceeded):
        # No scimType fits a licence limit; 403 tells the IdP this is a policy refusal, not a retryable fault.
        return ForbiddenError(message)
    if isinstance(exc, Forbidden):
        return ForbiddenError(message)
    return InvalidValueError(message)


def render(error: ScimError) -> Response:
    response = Response(json.dumps(error.body()), status=error.status, mimetype=SCIM_JSON)
    for key, value in error.headers.items():
        response.headers[key] = value
    return response


def register(blueprint) -> None:
    """Every error raised under /scim/v2 answers in SCIM form."""

    @blueprint.errorhandler(ScimError)
    def _scim(exc: ScimError):
        return render(exc)

    @blueprint.errorhandler(DomainError)
    def _domain(exc: DomainError):
        return render(from_domain(exc))

    @blueprint.errorhandler(RequestEntityTooLarge)
    def _too_large(exc):
        return render(PayloadTooLargeError("The request body is larger than this service accepts."))

    @blueprint.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code = exc.code or 500
        return render(ScimError(exc.description or "Request refused.", status=code))

    def _unavailable(exc):
        # The database is down or restarting: a 503 the IdP retries later, never a 500.
        log.warning("database unavailable in SCIM request (%s)", type(exc).__name__)
        return render(ScimError(UNAVAILABLE_MESSAGE, status=503, headers={"Retry-After": UNAVAILABLE_RETRY_AFTER}))

    for exc_class in DATABASE_UNAVAILABLE:
        blueprint.register_error_handler(exc_class, _unavailable)

    @blueprint.errorhandler(Exception)
    def _unexpected(exc: Exception):
        incident = log_unexpected(log, f"unhandled error in SCIM request {request.method} {request.path}", exc)
        return render(ScimError(f"Internal error (incident {incident}). The incident was logged.", status=500))
