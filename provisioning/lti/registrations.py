"""LTI platform registrations and deployments of a tenant, and the platforms' cached JWKS.

A registration is (issuer, client_id): hosted Canvas uses one issuer for every school,
so one issuer may have several client_ids, possibly in different tenants.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from provisioning.activity import Actor, record
from provisioning.db import insert_ignoring_conflicts, on_commit
from provisioning.errors import Conflict, InvalidInput, NotFound
from provisioning.i18n import N_, Message
from provisioning.models import LtiDeployment, LtiRegistration, Tenant, utcnow
from provisioning.pagination import Page, paginate
from provisioning.roles import DEFAULT_ADMIN_ROLES
from provisioning.runtime import Runtime
from provisioning.services.tenants import load_tenant
from provisioning.settings_catalog import DEFAULT_MANAGER_PERMISSIONS, SettingErrors, check_changes, stored

HTTP_TIMEOUT = 10
NAME_MAX = 200
REVOKED = N_("This LMS's registration with the service was revoked. Ask the service's administrator.")
# Launches read registrations, deployments and keys on every request; they change rarely, so each
# process keeps them this long (a registration change made here clears the cache at once).
CACHE_SECONDS = 60
UNKNOWN_DEPLOYMENT_POLICIES = ("refuse", "record")


@dataclass(frozen=True)
class LtiTenantSettings:
    """A tenant's LTI behaviour, from ``tenant.settings["lti"]`` with defaults."""

    unknown_deployments: str = "refuse"
    roster_sync_max_age_minutes: int = 60
    manager_permissions: tuple[str, ...] = DEFAULT_MANAGER_PERMISSIONS
    # The system/institution roles (LTI 1.3 A.2.1/A.2.2) that make a launching person a tenant admin.
    admin_roles: tuple[str, ...] = DEFAULT_ADMIN_ROLES

    def as_json(self) -> dict[str, Any]:
        return {
            "unknown_deployments": self.unknown_deployments,
            "roster_sync_max_age_minutes": self.roster_sync_max_age_minutes,
            "manager_permissions": list(self.manager_permissions),
            "admin_roles": list(self.admin_roles),
        }


def lti_settings(tenant: Tenant) -> LtiTenantSettings:
    raw = (tenant.settings or {}).get("lti") or {}
    policy = raw.get("unknown_deployments", "refuse")
    return LtiTenantSettings(
        unknown_deployments=policy if policy in UNKNOWN_DEPLOYMENT_POLICIES else "refuse",
        roster_sync_max_age_minutes=int(raw.get("roster_sync_max_age_minutes", 60)),
        # Tenant settings of their own (provisioning/settings_catalog.py), kept under "lti" where they were.
        manager_permissions=tuple(stored(tenant.settings, "manager_permissions")),
        admin_roles=tuple(stored(tenant.settings, "admin_roles")),
    )


def _checked_setting(name: str, value: Any) -> Any:
    """One LTI setting's value as stored, or ValueError saying what it must be."""
    if name == "unknown_deployments":
        if value not in UNKNOWN_DEPLOYMENT_POLICIES:
            raise ValueError(Message(N_("Must be one of %(choices)s."), choices=", ".join(UNKNOWN_DEPLOYMENT_POLICIES)))
        return value
    if name == "roster_sync_max_age_minutes":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(N_("Must be a whole number of minutes, 0 or more."))
        return value
    if name in ("manager_permissions", "admin_roles"):
        try:  # declared once, with the other tenant settings
            return check_changes({name: value})[name]
        except SettingErrors as exc:
            raise ValueError(exc.errors[name][0].removeprefix(f"{name}: ")) from None
    raise ValueError(N_("Unknown LTI setting."))


def update_lti_settings(rt: Runtime, tenant_ref: str | int, changes: dict[str, Any], actor: Actor) -> LtiTenantSettings:
    """Change some of a tenant's LTI settings (the others stay); every value is checked first."""
    errors: dict[str, list[str]] = {}
    checked: dict[str, Any] = {}
    for name, value in changes.items():
        try:
            checked[name] = _checked_setting(name, value)
        except ValueError as exc:
            errors[name] = [exc.args[0] if exc.args else str(exc)]  # a Message keeps its template
    if errors:
        raise InvalidInput(N_("The LTI settings have invalid values."), details=errors)
    with rt.db.transaction() as s:
        tenant = load_tenant(s, tenant_ref)
        settings = dict(tenant.settings or {})
        settings["lti"] = {**(settings.get("lti") or {}), **checked}
        tenant.settings = settings  # a new dict, so the JSON column is written
        record(s, tenant.id, actor, "lti.settings.changed", "tenant", tenant.id, {"changes": checked})
        return lti_settings(tenant)


def tenant_lti_settings(rt: Runtime, tenant_ref: str | int) -> LtiTenantSettings:
    with rt.db.read() as s:
        return lti_settings(load_tenant(s, tenant_ref))


def process_cache(rt: Runtime, name: str) -> dict[Any, tuple[Any, Any]]:
    """A per-Runtime dict of (value, expiry or fetch time) for values every launch needs."""
    return rt.extensions.setdefault(f"lti.{name}", {})


def cached(rt: Runtime, name: str, key: Any, load, *, seconds: float = CACHE_SECONDS) -> Any:
    """``load()`` once per ``seconds`` per key in this process; None results are not kept."""
    cache = process_cache(rt, name)
    hit = cache.get(key)
    now = time.monotonic()
    if hit is not None and hit[1] > now:
        return hit[0]
    value = load()
    if value is not None:
        cache[key] = (value, now + seconds)
    return value


def _check_url(field: str, value: str | None, errors: dict[str, list[str]], *, required: bool = True) -> None:
    if not value:
        if required:
            errors[field] = [N_("Required.")]
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        errors[field] = [Message(N_("%(value)r is not an http(s) URL."), value=value)]


def register_platform(
    rt: Runtime,
    tenant_ref: str | int,
    *,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    auth_token_url: str,
    key_set_url: str,
    deployment_ids: Iterable[str] = (),
    auth_audience: str | None = None,
    name: str | None = None,
    actor: Actor,
) -> LtiRegistration:
    """Add (or update) a platform registration of a tenant and its deployments.

    Registering a revoked platform again (same issuer and client id) restores it: an administrator's
    explicit act, as issuing the invite for a dynamic registration is."""
    issuer, client_id = (issuer or "").strip(), (client_id or "").strip()
    errors: dict[str, list[str]] = {}
    if not issuer:
        errors["issuer"] = [N_("Required.")]
    if not client_id:
        errors["client_id"] = [N_("Required.")]
    for field, value in (
        ("auth_login_url", auth_login_url),
        ("auth_token_url", auth_token_url),
        ("key_set_url", key_set_url),
    ):
        _check_url(field, value, errors)
    deployments = sorted({d.strip() for d in deployment_ids if d and d.strip()})
    name = _check_name(name, errors, required=False)
    # Values a Dynamic Registration platform sends are any JSON: hold them to the columns' limits.
    checks: list[tuple[str, str | None, int]] = [
        ("issuer", issuer, 400),
        ("client_id", client_id, 400),
        ("auth_login_url", auth_login_url, 1000),
        ("auth_token_url", auth_token_url, 1000),
        ("key_set_url", key_set_url, 1000),
        ("auth_audience", auth_audience, 1000),
        *(("deployment_id", d, 400) for d in deployments),
    ]
    for field, text, limit in checks:
        _check_text(field, text, limit, errors)
    if errors:
        raise InvalidInput(N_("The registration has invalid values."), details=errors)
    with rt.db.transaction() as s:
        tenant = load_tenant(s, tenant_ref)
        reg = s.scalar(
            select(LtiRegistration).where(LtiRegistration.issuer == issuer, LtiRegistration.client_id == client_id)
        )
        if reg is not None and reg.tenant_id != tenant.id:
            raise Conflict(
                N_("Client id %(client_id)r of %(issuer)s is registered to another tenant."),
                field="client_id",
                client_id=client_id,
                issuer=issuer,
            )
        if reg is None:
            reg = LtiRegistration(tenant_id=tenant.id, issuer=issuer, client_id=client_id, created_at=utcnow())
            s.add(reg)
        reg.auth_login_url, reg.auth_token_url, reg.key_set_url = auth_login_url, auth_token_url, key_set_url
        reg.auth_audience = auth_audience
        reg.name = name or reg.name
        reg.revoked_at = None
        s.flush()
        add_deployments(s, reg, deployments, status="registered")
        on_commit(s, lambda: process_cache(rt, "registrations").clear())
        record(
            s,
            tenant.id,
            actor,
            "lti.registration.saved",
            "lti_registration",
            reg.id,
            {"issuer": issuer, "client_id": client_id, "deployments": deployments, "name": reg.name},
        )
    return reg


def _check_text(field: str, value: Any, limit: int, errors: dict[str, list[str]]) -> None:
    if value is None or field in errors:
        return
    if not isinstance(value, str):
        errors[field] = [N_("Must be text.")]
    elif len(value) > limit:
        errors[field] = [Message(N_("At most %(most)s characters."), most=limit)]
    elif "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value):
        errors[field] = [N_("Must not contain NUL characters or lone surrogates.")]


def _check_name(name: str | None, errors: dict[str, list[str]], *, required: bool) -> str | None:
    name = " ".join((name or "").split()) or None
    _check_text("name", name, NAME_MAX, errors)
    if name is None and required:
        errors["name"] = [N_("Required.")]
    return name


def add_deployments(s: Session, reg: LtiRegistration, deployment_ids: Iterable[str], *, status: str) -> None:
    rows = [
        dict(tenant_id=reg.tenant_id, registration_id=reg.id, deployment_id=d, status=status, created_at=utcnow())
        for d in deployment_ids
    ]
    if rows:
        s.execute(insert_ignoring_conflicts(s, LtiDeployment.__table__), rows)


def _of_tenant(tenant_id: int, include_revoked: bool) -> Select[Any]:
    stmt = select(LtiRegistration).where(LtiRegistration.tenant_id == tenant_id)
    if not include_revoked:
        stmt = stmt.where(LtiRegistration.revoked_at.is_(None))
    return stmt.order_by(LtiRegistration.id)


def list_registrations(rt: Runtime, tenant_id: int, *, include_revoked: bool = False) -> list[LtiRegistration]:
    with rt.db.read() as s:
        return list(s.scalars(_of_tenant(tenant_id, include_revoked)))


def page_registrations(rt: Runtime, tenant_id: int, page: int = 1, per_page: int = 50) -> Page[LtiRegistration]:
    """The tenant's registrations, revoked ones too, oldest first, one page."""
    with rt.db.read() as s:
        return paginate(s, _of_tenant(tenant_id, True), page, per_page)


def _tenant_registration(s: Session, tenant_id: int, registration_id: int) -> LtiRegistration:
    """The tenant's registration, locked; another tenant's is as absent as a missing one."""
    reg = s.scalar(select(LtiRegistration).where(LtiRegistration.id == registration_id).with_for_update())
    if reg is None or reg.tenant_id != tenant_id:
        raise NotFound(N_("No LTI registration %(registration_id)s in this tenant."), registration_id=registration_id)
    return reg


def name_registration(
    rt: Runtime, tenant_ref: str | int, registration_id: int, name: str, actor: Actor
) -> LtiRegistration:
    """Give a registration the name people know the platform by."""
    errors: dict[str, list[str]] = {}
    checked = _check_name(name, errors, required=True)
    if errors:
        raise InvalidInput(N_("The registration's name is not valid."), details=errors)
    with rt.db.transaction() as s:
        tenant = load_tenant(s, tenant_ref)
        reg = _tenant_registration(s, tenant.id, registration_id)
        reg.name = checked
        record(s, tenant.id, actor, "lti.registration.named", "lti_registration", reg.id, {"name": checked})
    return reg


def revoke_registration(rt: Runtime, tenant_ref: str | int, registration_id: int, actor: Actor) -> LtiRegistration:
    """Revoke a platform: its launches and roster syncs are refused from now on (the row stays, for
    its courses and the audit trail).  Revoking again changes nothing."""
    with rt.db.transaction() as s:
        tenant = load_tenant(s, tenant_ref)
        reg = _tenant_registration(s, tenant.id, registration_id)
        if reg.revoked_at is None:
            reg.revoked_at = utcnow()
            record(
                s,
                tenant.id,
                actor,
                "lti.registration.revoked",
                "lti_registration",
                reg.id,
                {"issuer": reg.issuer, "client_id": reg.client_id},
            )
        on_commit(s, lambda: process_cache(rt, "registrations").clear())
    return reg


def is_revoked(s: Session, registration_id: int) -> bool:
    """Read at each launch and roster sync, past every cache: revocation holds from the next request."""
    return s.scalar(select(LtiRegistration.revoked_at).where(LtiRegistration.id == registration_id)) is not None


def find_registrations(rt: Runtime, issuer: str, client_id: str | None = None) -> list[LtiRegistration]:
    """Registrations of an issuer (all tenants: the login URL is shared), narrowed to a client_id if given."""
    stmt = select(LtiRegistration).where(LtiRegistration.issuer == issuer, LtiRegistration.revoked_at.is_(None))
    if client_id:
        stmt = stmt.where(LtiRegistration.client_id == client_id)

    def load() -> list[LtiRegistration] | None:
        with rt.db.read() as s:
            return list(s.scalars(stmt.order_by(LtiRegistration.id).limit(50))) or None

    return cached(rt, "registrations", (issuer, client_id), load) or []


def get_registration(rt: Runtime, registration_id: int) -> LtiRegistration:
    with rt.db.read() as s:
        reg = s.get(LtiRegistration, registration_id)
    if reg is None:
        raise NotFound(N_("No LTI registration %(registration_id)s."), registration_id=registration_id)
    return reg


def find_deployment(rt: Runtime, registration_id: int, deployment_id: str) -> LtiDeployment | None:
    def load() -> LtiDeployment | None:
        with rt.db.read() as s:
            return s.scalar(
                select(LtiDeployment).where(
                    LtiDeployment.registration_id == registration_id, LtiDeployment.deployment_id == deployment_id
                )
            )

    return cached(rt, "deployments", (registration_id, deployment_id), load)


def accept_deployment(rt: Runtime, registration_id: int, deployment_id: str) -> LtiDeployment | None:
    """The deployment if known; an unknown one is recorded when the tenant says so, else None."""
    found = find_deployment(rt, registration_id, deployment_id)
    if found is not None:
        return found
    with rt.db.transaction() as s:
        reg = s.get_one(LtiRegistration, registration_id)
        tenant = s.get_one(Tenant, reg.tenant_id)
        if lti_settings(tenant).unknown_deployments != "record" or not deployment_id or len(deployment_id) > 400:
            return None
        add_deployments(s, reg, [deployment_id], status="recorded")
        record(
            s,
            tenant.id,
            Actor.system("lti"),
            "lti.deployment.recorded",
            "lti_registration",
            reg.id,
            {"deployment_id": deployment_id},
        )
    return find_deployment(rt, registration_id, deployment_id)


# --- the platform's keys ------------------------------------------------------------------------


def platform_key(rt: Runtime, registration_id: int, kid: str) -> dict[str, Any] | None:
    """The platform's JWK with this kid, from the cached JWKS; fetched again when the kid is unknown.

    Platforms rotate their keys (Canvas hourly), so an unknown kid means "refetch", but not
    more often than ``settings.lti_jwks_min_refetch_seconds`` so a stream of bogus kids can't make us
    hammer the platform.
    """
    ttl = timedelta(seconds=rt.settings.lti_jwks_ttl_seconds)
    min_refetch = timedelta(seconds=rt.settings.lti_jwks_min_refetch_seconds)
    now = utcnow()
    memory = process_cache(rt, "platform_jwks")
    if registration_id in memory:  # this process's copy first; the row is shared by every process
        jwks, fetched_at = memory[registration_id]
        key = _key_with_kid(jwks, kid)
        if key is not None and now - fetched_at < ttl:
            return key
    reg = get_registration(rt, registration_id)
    fetched_at = reg.platform_jwks_fetched_at
    key = _key_with_kid(reg.platform_jwks, kid)
    if key is not None and fetched_at is not None and now - fetched_at < ttl:
        memory[registration_id] = (reg.platform_jwks, fetched_at)
        return key
    if key is None and fetched_at is not None and now - fetched_at < min_refetch:
        return None
    jwks = fetch_json(reg.key_set_url)
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise PlatformUnavailable(f"The platform's key set at {reg.key_set_url} is not a JWKS.")
    with rt.db.transaction() as s:
        row = s.get_one(LtiRegistration, registration_id)
        row.platform_jwks, row.platform_jwks_fetched_at = jwks, now
    memory[registration_id] = (jwks, now)
    return _key_with_kid(jwks, kid)


def _key_with_kid(jwks: dict[str, Any] | None, kid: str) -> dict[str, Any] | None:
    for key in (jwks or {}).get("keys", []):
        if isinstance(key, dict) and key.get("kid") == kid:
            return key
    return None


class PlatformUnavailable(RuntimeError):
    """The platform's endpoint did not answer as the spec says it must."""


def fetch_json(url: str, **kwargs: Any) -> Any:
    """GET a JSON document from a platform; any failure becomes :class:`PlatformUnavailable`."""
    try:
        resp = requests.get(url, timeout=HTTP_TIMEOUT, **kwargs)
        resp.raise_for_status()
        return resp.json()
    except (requests.RequestException, ValueError) as exc:
        raise PlatformUnavailable(f"Could not read {url}: {type(exc).__name__}") from exc


def frame_origins(rt: Runtime, tenant_id: int | None) -> list[str]:
    """Origins of the tenant's registered platforms (issuer and login URL: hosted LMSs differ): the
    pages allowed to frame the tool (CSP ``frame-ancestors``)."""
    if tenant_id is None:
        return []
    origins = set()
    for reg in list_registrations(rt, tenant_id):  # a revoked platform frames nothing
        for url in (reg.issuer, reg.auth_login_url):
            parts = urlsplit(url or "")
            if parts.scheme in ("https", "http") and parts.netloc:
                origins.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(origins)
