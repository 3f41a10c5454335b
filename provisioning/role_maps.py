"""Role maps: the tenant roles an identity provider's SCIM roles or an LMS's platform roles give, as an admin chose.

Two tenant settings (declared in :mod:`provisioning.settings_catalog`), both empty by default so that an
identity provider or an LMS grants only what an admin wrote down, entry by entry:

* ``scim_role_map``: a SCIM ``roles[].value`` (RFC 7643 §4.1.2; compared trimmed and without regard to case;
  ``display`` is a label for people and is never read) → a tenant role.  When SCIM creates, replaces or
  patches a user, the user's tenant role (``users.role``) becomes the mapped role of the roles they have
  (:func:`scim_role_values`), and ``users.role_source`` records that it came from the identity provider.  A
  role an admin gave by hand (any role but Learner whose source is not ``scim``) is never changed: the
  identity provider can neither raise nor take it away.  When no role of theirs maps any more, a person whose
  role came from the map goes back to Learner.
* ``lti_role_map``: an LTI system or institution role URI (LTI 1.3 A.2.1/A.2.2) → a tenant role, granted for
  the launch's session only, together with the person's own role (:mod:`provisioning.permissions` reads the
  map on every request, so a changed map applies at once); never written to ``users.role``.

When several roles map, :func:`provisioning.tenant_roles.most_privileged` decides.  An entry naming a role
the tenant no longer has grants nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from provisioning.i18n import N_, Message
from provisioning.models import User
from provisioning.roles import parse_role
from provisioning.settings_catalog import BY_KEY, role_value_key, stored
from provisioning.tenant_roles import LEARNER, Role, find_role, list_roles, most_privileged

SCIM, ADMIN_GIVEN = "scim", "admin"  # users.role_source
ROLE_MAP_KEYS = tuple(key for key, spec in BY_KEY.items() if spec.kind == "role_map")


def check_map_roles(s: Session, tenant_id: int, key: str, mapping: Mapping[str, str]) -> tuple[dict[str, str], list]:
    """``mapping`` (already checked by the catalog) with each role name as the tenant's role key, and a
    sentence for each entry naming a role the tenant doesn't have."""
    out: dict[str, str] = {}
    problems: list = []
    for entry, name in mapping.items():
        role = find_role(s, tenant_id, name)
        if role is None:
            keys = ", ".join(r.key for r in list_roles(s, tenant_id))
            reason = Message(
                N_("%(entry)r: there is no role %(role)r in this tenant; its roles are: %(roles)s."),
                entry=entry,
                role=name,
                roles=keys,
            )
            problems.append(Message(N_("%(key)s: %(reason)s"), key=key, reason=reason))
        else:
            out[entry] = role.key
    return out, problems


def maps_naming(settings: Mapping[str, Any] | None, key: str) -> list[str]:
    """The role maps (setting keys) with an entry giving the role ``key``."""
    return [name for name in ROLE_MAP_KEYS if key in stored(settings, name).values()]


def _mapped(s: Session, tenant_id: int, mapping: Mapping[str, str], wanted: Iterable[str]) -> Role | None:
    roles = [r for r in (find_role(s, tenant_id, mapping[w]) for w in dict.fromkeys(wanted) if w in mapping) if r]
    return most_privileged(roles)


def scim_role_values(roles: Any) -> list[str]:
    """The values of a SCIM ``roles`` attribute (a list of ``{"value": ...}``), as they are compared."""
    items = roles if isinstance(roles, list) else []
    return [role_value_key(i["value"]) for i in items if isinstance(i, Mapping) and isinstance(i.get("value"), str)]


def apply_scim_roles(
    s: Session, tenant_id: int, settings: Mapping[str, Any] | None, user: User | None, values: dict
) -> None:
    """Set ``values["role"]`` (and ``role_source``) from the SCIM roles in ``values["extra"]["roles"]`` by the
    tenant's ``scim_role_map``; ``user`` is the user as stored (None when SCIM creates them).  Does nothing
    for a user whose role an admin gave by hand.  A role the map gave that it no longer gives (the identity
    provider took the role away, or an admin took the entry out of the map) goes back to Learner."""
    mapping = stored(settings, "scim_role_map")
    if user is not None and user.role != LEARNER and user.role_source != SCIM:
        return  # an admin's choice: the identity provider never changes it
    if not mapping and (user is None or user.role_source != SCIM):
        return  # nothing mapped, nothing the map gave: the identity provider's roles grant nothing
    by_value = {role_value_key(k): v for k, v in mapping.items()}
    role = _mapped(s, tenant_id, by_value, scim_role_values((values.get("extra") or {}).get("roles")))
    if role is not None:
        values["role"], values["role_source"] = role.key, SCIM
    elif user is not None and user.role_source == SCIM:
        values["role"], values["role_source"] = LEARNER, ADMIN_GIVEN  # back to what anyone has, no longer mapped


def lti_mapped_role(s: Session, tenant_id: int, settings: Mapping[str, Any] | None, uris: Iterable[str]) -> Role | None:
    """The tenant role the launch's system and institution roles give by the tenant's ``lti_role_map``."""
    mapping = stored(settings, "lti_role_map")
    if not mapping:
        return None
    canonical = [r.uri for r in (parse_role(u) for u in uris) if r is not None]
    return _mapped(s, tenant_id, mapping, canonical)
