"""Groups as stored rows: validate, add, load and change them inside the caller's transaction.

Primitives that never commit; :mod:`provisioning.services.groups` holds the use cases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, with_expression

from provisioning.activity import Actor, record
from provisioning.errors import Conflict, InvalidInput, NotFound
from provisioning.i18n import N_, Message
from provisioning.models import GROUP_KINDS, GROUP_SOURCES, Group, Membership, utcnow

EDITABLE = ("name", "description", "kind", "external_id", "rule", "settings")


def member_count_expr():
    """A correlated COUNT(*) of a group's members, for ``with_expression``."""
    return (
        select(func.count())
        .select_from(Membership)
        .where(Membership.group_id == Group.id)
        .correlate(Group)
        .scalar_subquery()
    )


def _validate(values: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    for name in sorted(set(values) - set(EDITABLE) - {"source"}):
        errors[name] = [N_("Unknown attribute.")]
    if "name" in values or creating:
        name = (values.get("name") or "").strip()
        if not name:
            errors["name"] = [N_("Must not be empty.")]
        elif len(name) > 400:
            errors["name"] = [N_("At most 400 characters.")]
        values["name"] = name
    if "kind" in values and values["kind"] not in GROUP_KINDS:
        errors["kind"] = [Message(N_("Must be one of %(choices)s."), choices=", ".join(GROUP_KINDS))]
    if "source" in values and values["source"] not in GROUP_SOURCES:
        errors["source"] = [Message(N_("Must be one of %(choices)s."), choices=", ".join(GROUP_SOURCES))]
    if errors:
        raise InvalidInput(N_("Some group attributes are invalid."), details=errors)
    return values


def _check_unique_name(s: Session, tenant_id: int, name: str, exclude_id: int | None = None) -> None:
    stmt = select(Group.id).where(Group.tenant_id == tenant_id, func.lower(Group.name) == name.lower())
    if exclude_id is not None:
        stmt = stmt.where(Group.id != exclude_id)
    if s.scalar(stmt) is not None:
        raise Conflict(N_("A group named %(name)r already exists."), field="name", name=name)


def add_group(s: Session, tenant_id: int, values: dict[str, Any], actor: Actor) -> Group:
    """Create a group inside an open unit of work."""
    values = _validate(dict(values), creating=True)
    _check_unique_name(s, tenant_id, values["name"])
    group = Group(tenant_id=tenant_id, **values)
    group.settings = values.get("settings") or {}
    s.add(group)
    try:
        with s.begin_nested():
            s.flush()
    except IntegrityError as exc:
        raise Conflict(N_("A group named %(name)r already exists."), field="name", name=values["name"]) from exc
    group.member_count = 0
    record(s, tenant_id, actor, "group.created", "group", group.id, {"name": group.name, "kind": group.kind})
    return group


def load_group(
    s: Session, tenant_id: int, group_id: int, *, for_update: bool = False, with_count: bool = False
) -> Group:
    stmt = select(Group).where(Group.id == group_id, Group.tenant_id == tenant_id)
    if with_count:
        stmt = stmt.options(with_expression(Group.member_count, member_count_expr()))
    if for_update:
        stmt = stmt.with_for_update()
    group = s.scalar(stmt) if isinstance(group_id, int) else None
    if group is None:
        raise NotFound(N_("No group with id %(group_id)s."), group_id=group_id)
    return group


def apply_group_changes(s: Session, group: Group, values: dict[str, Any], actor: Actor) -> dict[str, Any]:
    values = _validate(dict(values), creating=False)
    if "name" in values:
        _check_unique_name(s, group.tenant_id, values["name"], exclude_id=group.id)
    changed = {k: v for k, v in values.items() if getattr(group, k) != v}
    if not changed:
        return {}
    for key, value in changed.items():
        setattr(group, key, value)
    group.version += 1
    group.updated_at = utcnow()
    try:
        with s.begin_nested():
            s.flush()
    except IntegrityError as exc:
        raise Conflict(N_("A group with this name already exists."), field="name") from exc
    record(s, group.tenant_id, actor, "group.updated", "group", group.id, {"changed": sorted(changed)})
    return changed
