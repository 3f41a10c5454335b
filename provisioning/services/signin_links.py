"""One-time, expiring sign-in links to the UI outside an LMS (``provisioning ui-link TENANT``).

A link is an itsdangerous-signed {tenant, nonce}; it expires after LINK_SECONDS and is used at
most once.  Opening it (GET) only checks it: mail and link scanners pre-fetch links, so the page
asks for a click, and the POST of that click redeems it.  Redeeming records a ``ui.signin_link.used`` activity event with the nonce
(provisioning/single_use.py: atomic on PostgreSQL); a later use finds that event.  No Flask here: the CLI issues links.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from provisioning.activity import Actor
from provisioning.models import Tenant
from provisioning.runtime import Runtime
from provisioning.services.tenants import get_tenant
from provisioning.services.ui_sessions import OWNER_USER_ID, start_session
from provisioning.single_use import use_once, was_used

SALT = "ui-signin-link"
LINK_SECONDS = 15 * 60
USED = "ui.signin_link.used"
OBJECT_TYPE = "signin_link"
OWNER_ROLE = "owner"


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def issue_signin_link(rt: Runtime, tenant_ref: str | int) -> str:
    """The URL of a new sign-in link that opens the UI as the tenant's owner."""
    tenant = get_tenant(rt, tenant_ref)
    link = _serializer(rt.settings.secret_key).dumps({"t": tenant.id, "n": secrets.token_urlsafe(16)})
    return f"{rt.settings.public_base_url}/ui/signin?{urlencode({'link': link})}"


def _read(rt: Runtime, link: str | None) -> tuple[int | None, str | None, str]:
    """(tenant id, nonce, "ok") of a well-signed, unexpired link, else (None, None, "invalid" | "expired")."""
    if not link or len(link) > 1000:
        return None, None, "invalid"
    try:
        data = _serializer(rt.settings.secret_key).loads(link, max_age=LINK_SECONDS)
        return int(data["t"]), str(data["n"]), "ok"
    except SignatureExpired:
        return None, None, "expired"
    except (BadSignature, KeyError, TypeError, ValueError):
        return None, None, "invalid"


def check_signin_link(rt: Runtime, link: str | None) -> tuple[int | None, str]:
    """Without using it: (tenant id, "ok") for a link that would sign in, else (None, "invalid" | "expired" | "used")."""
    tenant_id, nonce, state = _read(rt, link)
    if tenant_id is None or nonce is None:
        return None, state
    with rt.db.read() as s:
        if s.scalar(select(Tenant.id).where(Tenant.id == tenant_id)) is None:
            return None, "invalid"
        if was_used(s, tenant_id, USED, OBJECT_TYPE, nonce):
            return None, "used"
    return tenant_id, "ok"


def redeem_signin_link(rt: Runtime, link: str | None) -> int | None:
    """The tenant id of a valid, unused link (which is now used), or None."""
    tenant_id, nonce, _state = _read(rt, link)
    if tenant_id is None or nonce is None:
        return None
    if not use_once(
        rt, tenant_id, nonce, action=USED, object_type=OBJECT_TYPE, actor=Actor(name="owner", channel="ui")
    ):
        return None
    return tenant_id


def owner_launch_token(rt: Runtime, tenant_id: int) -> str:
    """A session (and its launch token, the kind the LTI launch issues) for the tenant's owner, as an admin."""
    return start_session(rt, tenant_id, OWNER_USER_ID, "admin", OWNER_ROLE, None)
