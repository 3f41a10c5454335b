"""Use cases on a tenant's roles: list (for the admin API, the CLI and the UI's role pickers), create, change,
delete.  The roles themselves and what they grant are declared in :mod:`provisioning.tenant_roles`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from provisioning.activity import Actor, record
from provisioning.errors import Conflict, InvalidInput, NotFound
from provisioning.i18n import N_, Message
from provisioning.models import Tenant, TenantRole, utcnow
from provisioning.role_maps import maps_naming
from provisioning.runtime import Runtime
from provisioning.tenant_roles import (
    BUILTIN,
    PERMISSION_LABELS,
    ROLE_PERMISSIONS,
    Role,
    find_role,
    list_roles,
    people_with_role,
    role_key_for,
)
from provisioning.text import text_problem

LABEL_MAX, DESCRIPTION_MAX = 100, 500


@dataclass(frozen=True)
class RoleView:
    """A role as the API, the CLI and the UI show it."""

    key: str
    label: str
    description: str
    permissions: tuple[str, ...]
    builtin: bool
    course_scoped: bool
    people: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "description": self.description,
            "permissions": list(self.permissions),
            "builtin": self.builtin,
            "scope": "courses_taught" if self.course_scoped else "tenant",
            "people": self.people,
        }


def _view(s, tenant_id: int, role: Role) -> RoleView:
    perms = tuple(ROLE_PERMISSIONS) if role.is_admin else role.permissions
    return RoleView(
        role.key,
        role.label,
        role.description,
        perms,
        role.builtin,
        role.course_scoped,
        people_with_role(s, tenant_id, role.key),
    )


def role_choices(rt: Runtime, tenant_id: int) -> list[dict[str, str]]:
    """The tenant's roles for a picker: ``key`` (what to send), ``label`` and ``description``, built-in first."""
    with rt.db.read() as s:
        return [{"key": r.key, "label": r.label, "description": r.description} for r in list_roles(s, tenant_id)]


def permission_choices() -> list[dict[str, str]]:
    """The permissions a custom role may have, with their words."""
    return [{"key": p, "label": PERMISSION_LABELS[p]} for p in ROLE_PERMISSIONS]


def list_tenant_roles(rt: Runtime, tenant_id: int) -> list[RoleView]:
    """Every role of the tenant, with the number of people who have it."""
    with rt.db.read() as s:
        return [_view(s, tenant_id, r) for r in list_roles(s, tenant_id)]


def get_role(rt: Runtime, tenant_id: int, key: str) -> RoleView:
    with rt.db.read() as s:
        role = find_role(s, tenant_id, key)
        if role is None:
            raise NotFound(N_("There is no role %(key)r in this tenant."), key=key)
        return _view(s, tenant_id, role)


def _checked(values: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    unknown = sorted(set(values) - {"label", "description", "permissions", "key"})
    for name in unknown:
        errors[name] = [N_("Unknown attribute.")]
    if "label" in values or creating:
        label = values.get("label")
        if not isinstance(label, str) or not label.strip():
            errors["label"] = [N_("Required: the role's name.")]
        elif len(label.strip()) > LABEL_MAX:
            errors["label"] = [Message(N_("At most %(most)s characters."), most=LABEL_MAX)]
        elif problem := text_problem(label):
            errors["label"] = [problem]
        else:
            out["label"] = " ".join(label.split())
    if "description" in values:
        text = values["description"] if values["description"] is not None else ""
        if not isinstance(text, str):
            errors["description"] = [N_("Must be text.")]
        elif len(text) > DESCRIPTION_MAX:
            errors["description"] = [Message(N_("At most %(most)s characters."), most=DESCRIPTION_MAX)]
        elif problem := text_problem(text):
            errors["description"] = [problem]
        else:
            out["description"] = text.strip()
    if "permissions" in values or creating:
        perms = values.get("permissions", [])
        if not isinstance(perms, list) or not all(isinstance(p, str) for p in perms):
            errors["permissions"] = [
                Message(N_("Must be a list of: %(choices)s."), choices=", ".join(ROLE_PERMISSIONS))
            ]
        elif unknown_perms := [p for p in perms if p not in ROLE_PERMISSIONS]:
            errors["permissions"] = [
                Message(
                    N_("Unknown permission %(permission)r; known: %(choices)s."),
                    permission=unknown_perms[0],
                    choices=", ".join(ROLE_PERMISSIONS),
                )
            ]
        else:
            out["permissions"] = [p for p in ROLE_PERMISSIONS if p in perms]
    if "key" in values:
        key = values["key"]
        if not isinstance(key, str) or key != role_key_for(key) or not key:
            errors["key"] = [N_("At most 20 lower-case letters, digits and underscores, such as team_lead.")]
        else:
            out["key"] = key
    if errors:
        raise InvalidInput(N_("Some role attributes are invalid."), details=errors)
    return out


def create_role(rt: Runtime, tenant_id: int, values: dict[str, Any], actor: Actor) -> RoleView:
    """A custom role: ``label`` (required), ``description``, ``permissions`` (tenant-wide), ``key`` (else from
    the label).  A name or key that a role of the tenant already has is a Conflict."""
    values = _checked(values, creating=True)
    key = values.pop("key", None) or role_key_for(values["label"])
    if not key:
        raise InvalidInput(
            N_("The role needs a key."),
            details={"key": [N_("The name has no letters or digits: give a key, such as team_lead.")]},
        )
    with rt.db.transaction() as s:
        for role in list_roles(s, tenant_id):
            if role.key == key or role.label.casefold() == values["label"].casefold():
                raise Conflict(
                    N_("There is already a role %(label)r (%(key)s) in this tenant."),
                    field="label",
                    label=role.label,
                    key=role.key,
                )
        if key in BUILTIN:  # unreachable while every built-in is listed; kept for clarity
            raise Conflict(N_("%(key)r is a built-in role."), field="key", key=key)
        now = utcnow()
        row = TenantRole(
            tenant_id=tenant_id,
            key=key,
            label=values["label"],
            description=values.get("description", ""),
            permissions=values["permissions"],
            created_by=actor.name,
            created_at=now,
            updated_at=now,
        )
        s.add(row)
        s.flush()
        record(s, tenant_id, actor, "role.created", "role", key, {"label": row.label, "permissions": row.permissions})
        return _view(s, tenant_id, find_role(s, tenant_id, key))  # type: ignore[arg-type]


def _custom_row(s, tenant_id: int, key: str) -> TenantRole:
    role = find_role(s, tenant_id, key)
    if role is not None and role.builtin:
        raise Conflict(
            N_("%(label)s is a built-in role: it can't be changed or deleted."), field="key", label=role.label
        )
    row = s.get(TenantRole, (tenant_id, role.key), with_for_update=True) if role is not None else None
    if row is None:
        raise NotFound(N_("There is no role %(key)r in this tenant."), key=key)
    return row


def update_role(rt: Runtime, tenant_id: int, key: str, values: dict[str, Any], actor: Actor) -> RoleView:
    """Change a custom role's name, description or permissions (its key stays)."""
    values = _checked(values, creating=False)
    if "key" in values:
        raise InvalidInput(N_("A role's key can't change."), details={"key": [N_("A role's key can't change.")]})
    with rt.db.transaction() as s:
        row = _custom_row(s, tenant_id, key)
        if "label" in values:
            clash = s.scalar(
                select(TenantRole.key)
                .where(TenantRole.tenant_id == tenant_id, TenantRole.key != row.key)
                .where(TenantRole.label.ilike(values["label"]))
            )
            if clash or any(r.label.casefold() == values["label"].casefold() for r in BUILTIN.values()):
                raise Conflict(
                    N_("There is already a role named %(label)r in this tenant."), field="label", label=values["label"]
                )
        changed = {k: v for k, v in values.items() if getattr(row, k) != v}
        for name, value in changed.items():
            setattr(row, name, value)
        if changed:
            row.updated_at = utcnow()
            record(s, tenant_id, actor, "role.updated", "role", row.key, {"changed": sorted(changed)})
        s.flush()
        return _view(s, tenant_id, find_role(s, tenant_id, row.key))  # type: ignore[arg-type]


def delete_role(rt: Runtime, tenant_id: int, key: str, actor: Actor) -> None:
    """Delete a custom role nobody has; a role in use is a Conflict naming how many people have it."""
    with rt.db.transaction() as s:
        row = _custom_row(s, tenant_id, key)
        people = people_with_role(s, tenant_id, row.key)
        if people:
            raise Conflict(
                N_("The role %(label)r can't be deleted: %(people)s person has it. Give them another role first.")
                if people == 1
                else N_(
                    "The role %(label)r can't be deleted: %(people)s people have it. Give them another role first."
                ),
                field="key",
                details={"people": people},
                label=row.label,
                people=people,
            )
        mapped_by = maps_naming(s.get_one(Tenant, tenant_id).settings, row.key)
        if mapped_by:
            # A role map's entry would grant a later role of the same key: the admin empties it first.
            raise Conflict(
                N_("The role %(label)r can't be deleted: the setting %(setting)s gives it. Take it out of it first."),
                field="key",
                details={"settings": mapped_by},
                label=row.label,
                setting=mapped_by[0],
            )
        s.delete(row)
        record(s, tenant_id, actor, "role.deleted", "role", row.key, {"label": row.label})
