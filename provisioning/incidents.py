"""Unexpected errors, logged as one line: no traceback, no secrets.

A traceback carries the exception's message, and database and HTTP-client errors put SQL,
parameters and URLs (with their passwords) in that message; logs travel to places secrets must
not.  So an unexpected error is logged as its type, the first line of its message with anything
secret-looking redacted, and the innermost frame of our own code (where to start looking), under
an incident id that the response repeats, so a report and the log line can be matched.
"""

from __future__ import annotations

import logging
import os
import secrets

from provisioning.observability.logs import redact

MAX_MESSAGE = 300
_PACKAGES = ("provisioning", "scim", "lti", "jobs")
_OURS = tuple(f"{os.sep}{p}{os.sep}" for p in _PACKAGES)


def summary(exc: BaseException) -> str:
    """``Type: first line of the message (at our/file.py:123 in function)``, secrets redacted."""
    lines = str(exc).strip().splitlines()
    message = redact(lines[0] if lines else "")[:MAX_MESSAGE]
    where = ""
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if any(part in filename for part in _OURS) and "site-packages" not in filename:
            where = f" (at {_short(filename)}:{tb.tb_lineno} in {tb.tb_frame.f_code.co_name})"
        tb = tb.tb_next
    return f"{type(exc).__name__}: {message}{where}"


def _short(filename: str) -> str:
    for package, marker in zip(_PACKAGES, _OURS):
        if marker in filename:
            return package + os.sep + filename.rsplit(marker, 1)[1]
    return os.path.basename(filename)


def log_unexpected(logger: logging.Logger, context: str, exc: BaseException) -> str:
    """Log an unexpected error as one redacted line; returns the incident id to show the caller."""
    incident = secrets.token_hex(6)
    logger.error("incident %s: %s: %s", incident, context, summary(exc))
    return incident
