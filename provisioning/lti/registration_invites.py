"""LTI Dynamic Registration invites: single-use, short-lived, saying which LMS hosts they may reach.

An invite is an itsdangerous-signed {tenant, nonce, lifetime, allowed hosts, name}; the link
``/lti/register?invite=...`` is what the tenant's LMS administrator pastes into the LMS.  Whoever
holds it can register "an LMS" with the tenant and then launch as its administrator, so:

- it works once: the registration attempt that starts with it uses it up (provisioning/single_use.py,
  atomic on PostgreSQL), whether or not the platform then completes; a failed attempt needs a new link;
- it expires after ``hours`` (default :data:`DEFAULT_HOURS`, at most :data:`MAX_HOURS`);
- the tool only fetches public URLs during the registration, and private or loopback ones of the
  hosts the invite names (an on-premise LMS; ``--allow-host``) or of the service's
  ``LTI_REGISTRATION_ALLOWED_HOSTS`` setting (provisioning/lti/guarded_fetch.py).

Invites of the earlier format ({"tenant_id"}, 7 days, reusable) are signed with another salt and
no longer accepted.  No Flask here: the CLI issues invites.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from provisioning.activity import Actor
from provisioning.errors import InvalidInput
from provisioning.i18n import N_
from provisioning.lti.guarded_fetch import UrlPolicy, normalise_host
from provisioning.models import Tenant
from provisioning.runtime import Runtime
from provisioning.services.tenants import get_tenant
from provisioning.single_use import use_once, was_used

SALT = "lti-dynamic-registration-invite-v2"
DEFAULT_HOURS = 24
MAX_HOURS = 7 * 24
MAX_ALLOWED_HOSTS = 10
USED = "lti.registration_invite.used"
OBJECT_TYPE = "lti_registration_invite"
_HOST_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789.-_")


@dataclass(frozen=True)
class Invite:
    tenant_id: int
    nonce: str
    allowed_hosts: tuple[str, ...] = ()
    name: str | None = None

    def url_policy(self, rt: Runtime) -> UrlPolicy:
        return UrlPolicy.allowing([*self.allowed_hosts, *rt.settings.lti_registration_allowed_hosts])


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def _is_host(host: str) -> bool:
    if ":" in host:  # only an IPv6 address has colons (a port is not part of the host)
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    return set(host) <= _HOST_CHARS and not host.startswith(("-", ".")) and 0 < len(host) <= 253


def _check_hosts(hosts: Iterable[str]) -> list[str]:
    """Host names or IP literals, as the URL's host is compared with them (no scheme, port or path)."""
    found = sorted({normalise_host(h) for h in hosts if h and h.strip()})
    bad = [h for h in found if not _is_host(h)]
    if bad:
        raise InvalidInput(
            N_("--allow-host takes a host name or IP address (no scheme, port, path or wildcard): %(hosts)s."),
            details={"allow_hosts": [f"{h!r} is not a host name or IP address." for h in bad]},
            hosts=", ".join(bad),
        )
    if len(found) > MAX_ALLOWED_HOSTS:
        raise InvalidInput(
            N_("At most %(most)s allowed hosts per invite."),
            details={"allow_hosts": [N_("Too many.")]},
            most=MAX_ALLOWED_HOSTS,
        )
    return found


def issue_invite(
    rt: Runtime,
    tenant_ref: str | int,
    *,
    hours: int = DEFAULT_HOURS,
    allow_hosts: Iterable[str] = (),
    name: str | None = None,
) -> str:
    """The URL of a new single-use registration invite for the tenant, valid ``hours`` hours."""
    if not 1 <= hours <= MAX_HOURS:
        raise InvalidInput(
            N_("An invite is valid between 1 and %(most)s hours, not %(hours)s."),
            details={"hours": [N_("Out of range.")]},
            most=MAX_HOURS,
            hours=hours,
        )
    name = (name or "").strip() or None
    if name is not None and len(name) > 200:
        raise InvalidInput(N_("The name is longer than 200 characters."), details={"name": [N_("Too long.")]})
    tenant = get_tenant(rt, tenant_ref)
    payload = {
        "t": tenant.id,
        "n": secrets.token_urlsafe(16),
        "s": hours * 3600,
        "h": _check_hosts(allow_hosts),
        "m": name,
    }
    token = _serializer(rt.settings.secret_key).dumps(payload)
    return f"{rt.settings.public_base_url}/lti/register?{urlencode({'invite': token})}"


def _read(rt: Runtime, token: str | None) -> tuple[Invite | None, str]:
    """(the invite, "ok") if well signed and unexpired, else (None, "invalid" | "expired")."""
    if not token or len(token) > 2000:
        return None, "invalid"
    try:
        data, signed_at = _serializer(rt.settings.secret_key).loads(
            token, max_age=MAX_HOURS * 3600, return_timestamp=True
        )
        invite = Invite(
            tenant_id=int(data["t"]),
            nonce=str(data["n"]),
            allowed_hosts=tuple(str(h) for h in data.get("h") or ()),
            name=data.get("m"),
        )
        lifetime = int(data["s"])
    except SignatureExpired:
        return None, "expired"
    except (BadSignature, KeyError, TypeError, ValueError, AttributeError):
        return None, "invalid"
    if (datetime.now(UTC) - signed_at).total_seconds() > min(lifetime, MAX_HOURS * 3600):
        return None, "expired"
    return invite, "ok"


def check_invite(rt: Runtime, token: str | None) -> tuple[Invite | None, str]:
    """Without using it: (the invite, "ok"), else (None, "invalid" | "expired" | "used")."""
    invite, state = _read(rt, token)
    if invite is None:
        return None, state
    with rt.db.read() as s:
        if s.scalar(select(Tenant.id).where(Tenant.id == invite.tenant_id)) is None:
            return None, "invalid"
        if was_used(s, invite.tenant_id, USED, OBJECT_TYPE, invite.nonce):
            return None, "used"
    return invite, "ok"


def redeem_invite(rt: Runtime, token: str | None, actor: Actor) -> tuple[Invite | None, str]:
    """Use the invite up: (the invite, "ok") for its one use, else (None, "invalid" | "expired" | "used")."""
    invite, state = check_invite(rt, token)
    if invite is None:
        return None, state
    if not use_once(rt, invite.tenant_id, invite.nonce, action=USED, object_type=OBJECT_TYPE, actor=actor):
        return None, "used"
    return invite, "ok"
