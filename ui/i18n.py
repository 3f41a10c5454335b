"""The pages' language: Flask-Babel on the service's catalogs, with the locale chosen per request.

The order (issue 16): the signed-in person's own language setting, else the LTI launch's
``locale`` claim (carried in the UI session), else the language a page names for its visitor (the
join page: the invited person's), else the tenant's ``default_language`` setting, else English;
each only if the service speaks it ("de-AT" counts as "de").  The catalogs and their in-memory
compilation are the core's (provisioning/i18n.py): the emails use the same ones.
Templates mark every string with ``{{ _('...') }}``; dates and numbers go through the locale's
formats (``|when`` for a moment, ``|dateformat`` for a day, ``|number``).
"""

from __future__ import annotations

from functools import lru_cache

from babel import Locale
from flask import Flask, g
from flask_babel import Babel, Domain, format_decimal, get_locale

from provisioning import i18n
from provisioning.services.tenants import tenant_setting
from ui.guard import rt, translated
from ui.me import signed_in


def select_locale() -> str:
    """The request's locale, in the order of the module docstring."""
    me = signed_in()
    p = getattr(g, "ui_principal", None)
    tenant_id = p.tenant_id if p else getattr(g, "ui_signin_tenant", None)
    candidates = [
        lambda: me.language if me else None,
        lambda: getattr(g, "ui_launch_locale", None),
        lambda: getattr(g, "page_language", None),
        lambda: tenant_setting(rt(), tenant_id, "default_language") if tenant_id is not None else None,
    ]
    for candidate in candidates:
        tag = candidate()
        if _speaks(tag):
            return i18n.best_language(tag)
    return i18n.SOURCE_LANGUAGE


def _speaks(tag: str | None) -> bool:
    """The service has pages in ``tag``'s language (English included)."""
    clean = i18n.language_tag(tag)
    return clean is not None and clean.split("-")[0].lower() in i18n.languages()


class CatalogDomain(Domain):
    """Flask-Babel's domain, reading the core's in-memory catalogs instead of .mo files."""

    def get_translations(self):
        locale = get_locale()
        return i18n.translations(str(locale.language) if locale else i18n.SOURCE_LANGUAGE)


def number(value: object) -> str:
    """A number in the locale's format (1,234 / 1.234)."""
    return format_decimal(value) if isinstance(value, (int, float)) else str(value)


def init_app(app: Flask) -> None:
    """Bind Flask-Babel to the app with the catalogs and the locale choice; add the ``number`` filter."""
    babel = Babel(app, locale_selector=select_locale)
    babel.domain_instance = CatalogDomain()  # type: ignore[misc]  # replaces a cached_property
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["translated"] = translated
    app.context_processor(
        lambda: {"language_names": language_names(), "html_lang": str(get_locale() or "en").replace("_", "-")}
    )


@lru_cache(maxsize=1)
def language_names() -> tuple[tuple[str, str], ...]:
    """The languages the service speaks, each named in itself ("Deutsch"), for a language picker."""
    return tuple((code, Locale.parse(code).get_display_name(code).capitalize()) for code in i18n.languages())
