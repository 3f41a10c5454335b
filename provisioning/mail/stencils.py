"""Stencilled emails: a batch's rendering stored once per language, each message only its personal values.

A bulk add's invitations are queued by :func:`provisioning.mail.outbox.queue_stencilled` against an
``email_stencils`` row (:func:`save_stencil`, marks in place of the personal fields:
provisioning/mail/templates.py ``Stencil``).  When a message is sent, :func:`message_parts` fills the
stencil in and makes its links (:data:`LINKS`) then; the email log shows it through :func:`shown_text`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from provisioning.join_tokens import join_link
from provisioning.mail.templates import Rendered, fill_marks
from provisioning.models import EmailMessage, EmailStencil, utcnow
from provisioning.runtime import Runtime

# The placeholders a stencilled message fills in when it is sent, from what its ``personal`` value holds
# for them: the invitation's join link is signed for its send number then, so it is good for
# INVITATION_LINK_DAYS from the sending (provisioning/services/join_links.py reads it).
LINKS: dict[str, Callable[[Runtime, EmailMessage, Any], str]] = {
    "join_url": lambda rt, message, send: join_link(rt, message.tenant_id, message.user_id or 0, int(send)),
}


def save_stencil(s: Session, tenant_id: int, template: str, language: str, parts: Rendered) -> int:
    """Store a batch's rendering in one language (marks for the personal fields); returns its id."""
    stencil = EmailStencil(
        tenant_id=tenant_id,
        template=template,
        language=language,
        subject=parts.subject,
        text_body=parts.text,
        html_body=parts.html,
        created_at=utcnow(),
    )
    s.add(stencil)
    s.flush()
    return stencil.id


def message_parts(rt: Runtime, message: EmailMessage) -> Rendered:
    """What the message says: its own bodies, or for a stencilled one its stencil filled in now, links signed."""
    if message.stencil is None:
        assert message.text_body is not None and message.html_body is not None
        return Rendered(message.subject, message.text_body, message.html_body)
    values = dict(message.personal or {})
    for key, make in LINKS.items():
        if key in values:
            values[key] = make(rt, message, values[key])
    return fill_marks(_stencil_parts(message), values)


def shown_text(message: EmailMessage, link: str) -> str:
    """The text part as the email log shows it: what was sent, or for a stencilled message not yet
    attempted its stencil filled in with ``link`` in place of each personal link."""
    if message.text_body is not None or message.stencil is None:
        return message.text_body or ""
    values = {key: link if key in LINKS else value for key, value in (message.personal or {}).items()}
    return fill_marks(_stencil_parts(message), values).text


def _stencil_parts(message: EmailMessage) -> Rendered:
    stencil = message.stencil
    assert stencil is not None
    return Rendered(message.subject, stencil.text_body, stencil.html_body)
