"""The UI's language: Flask-Babel, with the locale chosen per request.

The order (issue 16): the signed-in person's own language setting, else the LTI launch's
``locale`` claim when the session carries it, else the tenant's ``default_language`` setting,
else English, each only if a catalog exists for it (ui/translations/<lang>/LC_MESSAGES/messages.po,
compiled to .mo at build time; English is the source language and needs none).
Templates mark every string with ``{{ _('...') }}``; ``babel.cfg`` at the root drives extraction:
``pybabel extract -F babel.cfg -o ui/translations/messages.pot ui``.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g
from flask_babel import Babel

from provisioning.services.tenants import tenant_setting
from ui.guard import rt
from ui.me import signed_in

DEFAULT_LOCALE = "en"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def available_locales() -> list[str]:
    """English plus every language with a catalog under ui/translations/."""
    found = (
        sorted(p.name for p in TRANSLATIONS.glob("*") if (p / "LC_MESSAGES").is_dir()) if TRANSLATIONS.is_dir() else []
    )
    return [DEFAULT_LOCALE, *(x for x in found if x != DEFAULT_LOCALE)]


def _best(tag: str | None, available: list[str]) -> str | None:
    """``tag`` (e.g. "de-AT", "pt_BR") if available, else its language ("de"), else None."""
    if not tag:
        return None
    tag = tag.strip().replace("-", "_")
    by_lower = {a.lower(): a for a in available}
    return by_lower.get(tag.lower()) or by_lower.get(tag.split("_")[0].lower())


def select_locale() -> str:
    """The request's locale, in the order of the module docstring."""
    available = available_locales()
    me = signed_in()
    p = getattr(g, "ui_principal", None)
    tenant_id = p.tenant_id if p else getattr(g, "ui_signin_tenant", None)
    candidates = [
        lambda: me.language if me else None,
        lambda: getattr(g, "ui_launch_locale", None),
        lambda: tenant_setting(rt(), tenant_id, "default_language") if tenant_id is not None else None,
    ]
    for candidate in candidates:
        chosen = _best(candidate(), available)
        if chosen:
            return chosen
    return DEFAULT_LOCALE


def init_app(app: Flask) -> None:
    """Bind Flask-Babel to the app with the UI's catalogs and locale choice."""
    Babel(app, locale_selector=select_locale, default_translation_directories=str(TRANSLATIONS))
