"""Domain exceptions.  Each edge (SCIM, admin API, UI, CLI) translates them into its own form."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class: a use case refused, with a message meant for the person who asked."""

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    """No such object in this tenant (objects of other tenants are reported the same way)."""


class Conflict(DomainError):
    """A uniqueness rule would be broken (userName, email, group name ...)."""

    def __init__(self, message: str, *, field: str | None = None, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.field = field


class InvalidInput(DomainError):
    """The request was understood but its values are wrong.

    ``details`` maps a field (or a "row 12 / column email" location) to a list of messages.
    """


class Forbidden(DomainError):
    """The caller may not do this."""


class LimitExceeded(DomainError):
    """A configured limit (seats, file size, rows) would be exceeded."""

    def __init__(self, message: str, *, limit: str, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.limit = limit


class VersionMismatch(DomainError):
    """An If-Match precondition named a version that is no longer current."""


class InvalidText(InvalidInput):
    """Text that can't be stored: a NUL character or a lone UTF-16 surrogate (provisioning/text.py).

    ``where`` names the place in the request ("query parameter 'filter'", "the JSON body at
    emails[0].value"); ``field`` is the parameter or JSON path, so an edge can pick its error form.
    """

    def __init__(self, where: str, problem: str, *, field: str | None = None) -> None:
        message = f"The text in {where} {problem}; remove it and send the request again."
        super().__init__(message, details={field or where: [f"The text {problem}."]})
        self.where = where
        self.field = field
