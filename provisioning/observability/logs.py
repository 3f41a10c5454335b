"""Structured logs: one JSON object per line, with the request id and no secrets.

``configure_logging`` is called by ``provisioning serve`` and ``provisioning worker``
(LOG_FORMAT=json by default, "text" for a terminal).  Every record carries the request id
and operation id of the work in hand (observability.context).  Secrets never reach the
output: bearer tokens, our ``prov_`` tokens and the password of any URL are masked in the
message.  Unexpected errors are logged by provisioning/incidents.py as one line without a
traceback.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

from provisioning.observability.context import current_operation_id, current_request_id

# What a secret looks like in a log message: "Bearer <token>", one of our tokens (prov_...),
# the password in scheme://user:password@host, password=... / token: ... pairs, and 64-hex-digit
# strings (token hashes, HMACs).  provisioning/incidents.py uses the same list.
_SECRETS = [
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]+"), r"\1 [redacted]"),
    (re.compile(r"\bprov_[A-Za-z0-9_\-]+"), "prov_[redacted]"),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^:/@\s]*:)[^@\s]+@"), r"\1[redacted]@"),
    (re.compile(r"(?i)\b(password|passwd|pwd|secret|token|api_key)(\s*[=:]\s*)([^\s&,;]+)"), r"\1\2[redacted]"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "[redacted-hash]"),
]

# Attributes every LogRecord has; anything else was passed with ``extra=`` and is kept.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def redact(text: str) -> str:
    """``text`` with every secret-looking part masked."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request/operation id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "pid": record.process,
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            doc["request_id"] = request_id
        operation_id = getattr(record, "operation_id", None) or current_operation_id()
        if operation_id:
            doc["operation_id"] = operation_id
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in doc:
                doc[key] = value
        if record.exc_info:
            doc["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(doc, default=str)


class TextFormatter(logging.Formatter):
    """The human-readable format, with the same redaction and the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = redact(super().format(record))
        request_id = current_request_id()
        return f"{line} [request {request_id}]" if request_id and "request_id" not in vars(record) else line


def formatter(fmt: str) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else TextFormatter()


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record is emitted, not to the one it was made with: a
    stream swapped in and closed since (a CLI runner's, a test's) would otherwise turn every later record
    into a "--- Logging error ---" traceback (as the standard library's own last-resort handler does)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def configure_logging(fmt: str = "json", level: str = "INFO", stream=None) -> None:
    """Send every log record (ours, gunicorn's, RQ's) to stderr in ``fmt``."""
    handler = logging.StreamHandler(stream) if stream is not None else StderrHandler()
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


def gunicorn_logconfig(fmt: str, level: str) -> dict:
    """gunicorn's ``logconfig_dict``: its error log in our format (its access log is off;
    our own request log line replaces it)."""
    factory = "provisioning.observability.logs." + ("JsonFormatter" if fmt == "json" else "TextFormatter")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"provisioning": {"()": factory}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "provisioning", "stream": "ext://sys.stderr"}
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }
