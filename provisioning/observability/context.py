"""The request id (and operation id) of the work in hand, for log lines and Operation rows.

Flask-free: the web edge sets the request id per request, the job runner sets the id the
Operation was requested under, and services read it (an Operation remembers the request
that started it, so its job's log lines carry the same id).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_operation_id: ContextVar[int | None] = ContextVar("operation_id", default=None)

# A caller's X-Request-ID is kept when it is a plain token; anything else (too long, spaces,
# control characters that could forge log lines) is replaced by one of ours.
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def new_request_id() -> str:
    return secrets.token_hex(16)


def accept_request_id(presented: str | None) -> str:
    """The caller's request id if it is acceptable, else a fresh one."""
    if presented and _ACCEPTABLE.fullmatch(presented):
        return presented
    return new_request_id()


def current_request_id() -> str | None:
    return _request_id.get()


def current_operation_id() -> int | None:
    return _operation_id.get()


def set_request_id(value: str | None):
    """Set the request id; returns a token for :func:`reset_request_id`."""
    return _request_id.set(value)


def reset_request_id(token) -> None:
    _request_id.reset(token)


@contextmanager
def job_context(operation_id: int, request_id: str | None) -> Iterator[None]:
    """Log lines inside the block name the Operation and the request that started it."""
    op_token, req_token = _operation_id.set(operation_id), _request_id.set(request_id)
    try:
        yield
    finally:
        _operation_id.reset(op_token)
        _request_id.reset(req_token)
