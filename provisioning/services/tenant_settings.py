"""A tenant's settings as admins see and change them (``/api/v1/settings``, ``provisioning tenants settings``).

What each key means and how it is checked is declared once in :mod:`provisioning.settings_catalog`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from provisioning.activity import Actor, record
from provisioning.errors import InvalidInput
from provisioning.i18n import N_
from provisioning.models import Tenant
from provisioning.role_maps import ROLE_MAP_KEYS, check_map_roles
from provisioning.runtime import Runtime
from provisioning.services.tenants import load_tenant
from provisioning.settings_catalog import CATALOG, SettingErrors, apply, check_changes, stored
from provisioning.store.users import count_seats

CHANGED = "tenant.settings.changed"


def settings_of(s: Session, tenant: Tenant) -> dict[str, Any]:
    """Every setting of ``tenant``, defaults filled in, in the catalog's order (``seats`` counted now)."""
    out: dict[str, Any] = {}
    for spec in CATALOG:
        if spec.kind == "seats":
            out[spec.key] = {"limit": tenant.seat_limit, "used": count_seats(s, tenant.id)}
        else:
            out[spec.key] = stored(tenant.settings, spec.key)
    return out


def get_settings(rt: Runtime, tenant_ref: str | int) -> dict[str, Any]:
    """The tenant's settings (its id or slug)."""
    with rt.db.read() as s:
        return settings_of(s, load_tenant(s, tenant_ref))


def update_settings(
    rt: Runtime,
    tenant_ref: str | int,
    changes: Mapping[str, Any],
    actor: Actor,
    *,
    unset: Sequence[str] = (),
) -> dict[str, Any]:
    """Change some settings (None or ``unset``: back to the default); the others stay.

    Every value is checked before anything is written; an unknown or read-only key, or a bad value,
    is an InvalidInput naming each key and what is wrong.  A change is recorded in the activity log.
    """
    try:
        checked = check_changes(changes, tuple(unset))
    except SettingErrors as exc:
        raise InvalidInput(
            N_("Some settings were not changed: %(reason)s"), details=exc.errors, reason=str(exc)
        ) from None
    with rt.db.transaction() as s:
        tenant = load_tenant(s, tenant_ref)
        problems: dict[str, list] = {}
        for key in ROLE_MAP_KEYS:  # a role map names the tenant's roles: checked here, with the database
            if checked.get(key):
                checked[key], found = check_map_roles(s, tenant.id, key, checked[key])
                if found:
                    problems[key] = found
        if problems:
            reason = "; ".join(m for ms in problems.values() for m in ms)
            raise InvalidInput(N_("Some settings were not changed: %(reason)s"), details=problems, reason=reason)
        if checked:
            before = {key: stored(tenant.settings, key) for key in checked}
            tenant.settings = apply(tenant.settings, checked)
            after = {key: stored(tenant.settings, key) for key in checked}
            changed = {k: after[k] for k in checked if after[k] != before[k]}
            if changed:
                record(s, tenant.id, actor, CHANGED, "tenant", tenant.id, {"changes": changed})
        return settings_of(s, tenant)
