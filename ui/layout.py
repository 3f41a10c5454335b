"""What base.html shows around every page: the signed-in person's name and role in words, the page language."""

from __future__ import annotations

from flask import g
from flask_babel import get_locale, lazy_gettext

from provisioning.services import signin_links
from ui.blueprint import bp
from ui.me import signed_in
from ui.roles import ROLE_WORDS as TENANT_ROLE_WORDS

ROLE_WORDS = {
    "admin": lazy_gettext("Administrator"),
    "manager": lazy_gettext("Group manager"),
    "learner": lazy_gettext("Learner"),
}


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
