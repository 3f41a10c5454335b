"""What base.html shows around every page: the signed-in person's name and role in words, the page language."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError
from flask import g
from flask_babel import format_date, format_time, get_locale, gettext, lazy_gettext

from provisioning.services import signin_links
from ui.blueprint import bp
from ui.me import signed_in
from ui.roles import ROLE_WORDS as TENANT_ROLE_WORDS

# The built-in tenant roles in words (ui/roles.py declares them with their descriptions).
ROLE_WORDS = {key: words for key, (words, _description) in TENANT_ROLE_WORDS.items()}


def language_name(code: str | None) -> str:
    """A language tag in words, in the page's language ("de" on an English page: "German (de)")."""
    if not code:
        return ""
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(str(get_locale() or "en")) or code
    except (ValueError, UnknownLocaleError):
        return code
    return f"{name[:1].upper()}{name[1:]} ({code})"


@bp.app_template_global("language_name")
def _language_name(code: str | None) -> str:
    return language_name(code)


bp.add_app_template_global(ROLE_WORDS, "role_words")  # the roles in words, for every template


@bp.context_processor
def _layout():
    p = getattr(g, "ui_principal", None)
    me = signed_in()
    if p is None:
        role = ""
    elif p.user_id == signin_links.OWNER_USER_ID:
        role = lazy_gettext("Owner")
    else:
        role = ROLE_WORDS.get(p.role) or (
            TENANT_ROLE_WORDS[p.tenant_role][0] if p.tenant_role in TENANT_ROLE_WORDS else p.role_label
        )
    return {
        "html_lang": str(get_locale() or "en").replace("_", "-"),
        "me_name": me.name if me else "",
        "me_role": role,
    }


@bp.app_template_filter("when")
def when(value) -> str:
    """A date and time in the page's language and its usual order ("Jan 2, 2024, 3:04 AM"); "" for none."""
    if value is None:
        return ""
    return gettext("%(date)s, %(time)s", date=format_date(value, "medium"), time=format_time(value, "short"))


@bp.app_template_filter("day")
def day(value) -> str:
    """A date in the page's language ("Jan 2, 2024")."""
    return "" if value is None else format_date(value, "medium")
