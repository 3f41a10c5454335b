"""Domain exceptions and HTTP errors rendered as the admin API's JSON error shape:

``{"code": 400, "status": "Bad Request", "message": "...", "errors": {"field": ["..."]}}``
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES

from provisioning.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    LimitExceeded,
    NotFound,
    VersionMismatch,
)
from provisioning.incidents import log_unexpected

log = logging.getLogger(__name__)

STATUS_OF = {
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 400,
    Forbidden: 403,
    VersionMismatch: 412,
}


def error_response(code: int, message: str, errors=None, headers=None):
    body = {"code": code, "status": HTTP_STATUS_CODES.get(code, "Error"), "message": message}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = code
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def status_for(exc: DomainError) -> int:
    if isinstance(exc, LimitExceeded):
        return 403 if exc.limit == "seats" else 413
    for cls, code in STATUS_OF.items():
        if isinstance(exc, cls):
            return code
    return 400


def summarise(errors: dict) -> str:
    """One readable sentence for the message: the first problem of each field (``user_ids.3``)."""
    parts = []
    for path, message in _first_messages(errors):
        parts.append(message if path in ("json", "_schema") else f"{path}: {message}")
    return "The request has invalid values. " + " ".join(p if p.endswith(".") else p + "." for p in parts[:10])


def _first_messages(errors, prefix=""):
    for key, value in errors.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            yield from _first_messages(value, path)
        elif isinstance(value, list) and value:
            yield path, str(value[0])
        else:
            yield path, str(value)


def _is_api() -> bool:
    return request.path.startswith("/api/")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        if not _is_api():
            raise exc
        errors = exc.details if isinstance(exc.details, (dict, list)) else None
        if isinstance(exc, Conflict) and exc.field and not errors:
            errors = {exc.field: [exc.message]}
        return error_response(status_for(exc), exc.message, errors)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc):
        limit = app.config.get("MAX_CONTENT_LENGTH")
        return error_response(413, f"The request body is larger than the limit of {limit} bytes.")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if not _is_api():
            return exc
        data = getattr(exc, "data", None) or {}
        messages = data.get("messages") if isinstance(data, dict) else None
        errors = None
        if messages:
            # webargs nests by location ("json", "query"); flatten one level for readers.
            errors = {}
            for location, fields in messages.items():
                if isinstance(fields, dict):
                    errors.update(fields)
                else:
                    errors[location] = fields
        code = exc.code or 500
        message = exc.description if code != 400 or not errors else summarise(errors)
        headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
        return error_response(code, message or HTTP_STATUS_CODES.get(code, "Error"), errors, headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # Never a traceback in a response, nor in the log (provisioning/incidents.py says why).
        incident = log_unexpected(log, f"unhandled error on {request.method} {request.path}", exc)
        return error_response(500, f"Internal error (incident {incident}). The incident was logged.")
