"""The signed-in person as the pages show them: their name, their role in words, their own language.

Loaded once per request (cached on ``flask.g``) for the navbar and the locale choice (ui.i18n).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g

from provisioning.errors import NotFound
from provisioning.services import signin_links, users
from ui.guard import rt


@dataclass(frozen=True)
class Me:
    name: str
    language: str | None


def signed_in() -> Me | None:
    """The signed-in person (None before sign-in), read once per request."""
    p = getattr(g, "ui_principal", None)
    if p is None:
        return None
    if "ui_me" not in g:
        g.ui_me = _load(p.tenant_id, p.user_id)
    return g.ui_me


def _load(tenant_id: int, user_id: int) -> Me:
    if user_id == signin_links.OWNER_USER_ID:  # the owner's sign-in has no user row behind it
        return Me(name="", language=None)
    try:
        user = users.get_user(rt(), tenant_id, user_id)
    except NotFound:  # deleted since the launch: the guard refuses on the next request
        return Me(name="", language=None)
    name = user.display_name or f"{user.given_name or ''} {user.family_name or ''}".strip() or user.email or ""
    return Me(name=name, language=user.language)
