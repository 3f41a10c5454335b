"""One-time, expiring sign-in links to the UI outside an LMS (``provisioning ui-link TENANT``).

A link is an itsdangerous-signed {tenant, nonce}; it expires after LINK_SECONDS and is used at
most once.  Opening it (GET) only checks it: mail and link scanners pre-fetch links, so the page
asks for a click, and the POST of that click redeems it.  Redeeming: the first use records a ``ui.signin_link.used`` activity event with the nonce while
holding the tenant row locked, and a later use finds that event.  The event doubles as the
audit trail of who signed in.  No Flask here: the CLI issues links.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import exists, select

from provisioning.activity import Actor, record
from provisioning.models import ActivityEvent, Tenant
from provisioning.runtime import Runtime
from provisioning.services.tenants import get_tenant
from provisioning.services.ui_sessions import OWNER_USER_ID, start_session

SALT = "ui-signin-link"
LINK_SECONDS = 15 * 60
USED = "ui.signin_link.used"
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
    if tenant_id is None:
        return None, state
    with rt.db.read() as s:
        if s.scalar(select(Tenant.id).where(Tenant.id == tenant_id)) is None:
            return None, "invalid"
        if s.scalar(
            select(
                exists().where(
                    ActivityEvent.tenant_id == tenant_id, ActivityEvent.action == USED, ActivityEvent.object_id == nonce
                )
            )
        ):
            return None, "used"
    return tenant_id, "ok"


def redeem_signin_link(rt: Runtime, link: str | None) -> int | None:
    """The tenant id of a valid, unused link (which is now used), or None."""
    tenant_id, nonce, _state = _read(rt, link)
    if tenant_id is None:
        return None
    with rt.db.transaction() as s:
        # The row lock serialises two concurrent uses of the same link on PostgreSQL.
        if s.scalar(select(Tenant.id).where(Tenant.id == tenant_id).with_for_update()) is None:
            return None
        if s.scalar(
            select(
                exists().where(
                    ActivityEvent.tenant_id == tenant_id, ActivityEvent.action == USED, ActivityEvent.object_id == nonce
                )
            )
        ):
            return None
        record(s, tenant_id, Actor(name="owner", channel="ui"), USED, "signin_link", nonce)
    return tenant_id


def owner_launch_token(rt: Runtime, tenant_id: int) -> str:
    """A session (and its launch token, the kind the LTI launch issues) for the tenant's owner, as an admin."""
    return start_session(rt, tenant_id, OWNER_USER_ID, "admin", OWNER_ROLE, None)
