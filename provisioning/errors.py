"""Domain exceptions.  Each edge (SCIM, admin API, UI, CLI) translates them into its own form.

A refusal is raised with a template marked for translation and its values, never a finished
f-string: ``Conflict(N_("A group named %(name)r already exists."), name=name, field="name")``.
``str(exc)`` and ``exc.message`` are the English sentence (logs, the admin API and SCIM show it as it
is); ``exc.message`` is a :class:`~provisioning.i18n.Message` that keeps the template and the values,
so the UI says it in the page's language (``ui/guard.py``'s ``translated``).
``tests/unit/test_refusal_templates.py`` fails on a refusal built any other way.
"""

from __future__ import annotations

from typing import Any

from provisioning.i18n import N_, Message


def _message(message: str, values: dict[str, Any]) -> Message:
    if isinstance(message, Message) and not values:
        return message
    return Message(message, **values)


class DomainError(Exception):
    """Base class: a use case refused, with a message meant for the person who asked.

    ``message`` is a template marked with ``N_`` and ``values`` fill its ``%(name)s`` placeholders
    (or a Message already made, passed on).
    """

    def __init__(self, message: str, *, details: Any = None, **values: Any) -> None:
        text = _message(message, values)
        super().__init__(text)
        self.message = text
        self.details = details

    @property
    def template(self) -> str:
        """The marked English template the message was made from."""
        return self.message.template

    @property
    def values(self) -> dict[str, Any]:
        """The values that fill the template's placeholders."""
        return self.message.values


class NotFound(DomainError):
    """No such object in this tenant (objects of other tenants are reported the same way)."""


class Conflict(DomainError):
    """A uniqueness rule would be broken (userName, email, group name ...)."""

    def __init__(self, message: str, *, field: str | None = None, details: Any = None, **values: Any) -> None:
        super().__init__(message, details=details, **values)
        self.field = field


class InvalidInput(DomainError):
    """The request was understood but its values are wrong.

    ``details`` maps a field (or a "row 12 / column email" location) to a list of messages.
    """


class Forbidden(DomainError):
    """The caller may not do this."""


class LimitExceeded(DomainError):
    """A configured limit (seats, file size, rows) would be exceeded."""

    def __init__(self, message: str, *, limit: str, details: Any = None, **values: Any) -> None:
        super().__init__(message, details=details, **values)
        self.limit = limit


class VersionMismatch(DomainError):
    """An If-Match precondition named a version that is no longer current."""


class InvalidText(InvalidInput):
    """Text that can't be stored: a NUL character or a lone UTF-16 surrogate (provisioning/text.py).

    ``where`` names the place in the request ("query parameter 'filter'", "the JSON body at
    emails[0].value"); ``field`` is the parameter or JSON path, so an edge can pick its error form.
    """

    def __init__(self, where: str, problem: str, *, field: str | None = None) -> None:
        super().__init__(
            N_("The text in %(where)s %(problem)s; remove it and send the request again."),
            details={field or where: [Message(N_("The text %(problem)s."), problem=problem)]},
            where=where,
            problem=problem,
        )
        self.where = where
        self.field = field
