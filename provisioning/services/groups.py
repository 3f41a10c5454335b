"""Groups: create, read, list, update, delete.  Member counts are counted in SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, with_expression

from provisioning.errors import Conflict, InvalidInput, NotFound, VersionMismatch
from provisioning.models import GROUP_KINDS, GROUP_SOURCES, Group, Membership, utcnow
from provisioning.pagination import Page, paginate
from provisioning.runtime import Runtime
from provisioning.services.activity import Actor, record
from provisioning.sql import escape_like

EDITABLE = ("name", "description", "kind", "external_id", "rule", "settings")


def member_count_expr():
    """A correlated COUNT(*) of a group's members, for ``with_expression``."""
    return (select(func.count()).select_from(Membership)
            .where(Membership.group_id == Group.id).correlate(Group).scalar_subquery())


def _validate(values: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    for name in sorted(set(values) - set(EDITABLE) - {"source"}):
        errors[name] = ["Unknown attribute."]
    if "name" in values or creating:
        name = (values.get("name") or "").strip()
        if not name:
            errors["name"] = ["Must not be empty."]
        elif len(name) > 400:
            errors["name"] = ["At most 400 characters."]
        values["name"] = name
    if "kind" in values and values["kind"] not in GROUP_KINDS:
        errors["kind"] = [f"Must be one of {', '.join(GROUP_KINDS)}."]
    if "source" in values and values["source"] not in GROUP_SOURCES:
        errors["source"] = [f"Must be one of {', '.join(GROUP_SOURCES)}."]
    if errors:
        raise InvalidInput("Some group attributes are invalid.", details=errors)
    return values


def _check_unique_name(s: Session, tenant_id: int, name: str, exclude_id: int | None = None) -> None:
    stmt = select(Group.id).where(Group.tenant_id == tenant_id, func.lower(Group.name) == name.lower())
    if exclude_id is not None:
        stmt = stmt.where(Group.id != exclude_id)
    if s.scalar(stmt) is not None:
        raise Conflict(f"A group named {name!r} already exists.", field="name")


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
        raise Conflict(f"A group named {values['name']!r} already exists.", field="name") from exc
    group.member_count = 0
    record(s, tenant_id, actor, "group.created", "group", group.id, {"name": group.name, "kind": group.kind})
    return group


def create_group(rt: Runtime, tenant_id: int, values: dict[str, Any], actor: Actor) -> Group:
    """Create a group (kind manual unless told otherwise)."""
    from provisioning.rules.definition import (
        group_saved,  # automatic groups: validate the rule, start its evaluation
    )

    with rt.db.transaction() as s:
        group = add_group(s, tenant_id, values, actor)
        group_saved(s, rt, group, actor)
        return group


def load_group(s: Session, tenant_id: int, group_id: int, *, for_update: bool = False,
               with_count: bool = False) -> Group:
    stmt = select(Group).where(Group.id == group_id, Group.tenant_id == tenant_id)
    if with_count:
        stmt = stmt.options(with_expression(Group.member_count, member_count_expr()))
    if for_update:
        stmt = stmt.with_for_update()
    group = s.scalar(stmt) if isinstance(group_id, int) else None
    if group is None:
        raise NotFound(f"No group with id {group_id}.")
    return group


def get_group(rt: Runtime, tenant_id: int, group_id: int) -> Group:
    with rt.db.read() as s:
        return load_group(s, tenant_id, group_id, with_count=True)


def list_groups(
    rt: Runtime, tenant_id: int, *, q: str | None = None, populated: bool | None = None,
    kind: str | None = None, page: int = 1, per_page: int = 50, within: Any = None,
) -> Page[Group]:
    """Groups of the tenant, by name; ``q`` is a case-insensitive substring of the name.

    ``within`` (a SELECT of group ids, e.g. :func:`.permissions.group_scope`) keeps only those groups.
    """
    if kind and kind not in GROUP_KINDS:
        raise InvalidInput(f"Unknown kind {kind!r}.", details={"kind": [f"Must be one of {', '.join(GROUP_KINDS)}."]})
    stmt = (select(Group).where(Group.tenant_id == tenant_id)
            .options(with_expression(Group.member_count, member_count_expr())))
    if q:
        stmt = stmt.where(func.lower(Group.name).like(f"%{escape_like(q.strip().lower())}%", escape="\\"))
    if kind:
        stmt = stmt.where(Group.kind == kind)
    if within is not None:
        stmt = stmt.where(Group.id.in_(within))
    if populated is not None:
        has_members = exists().where(Membership.group_id == Group.id)
        stmt = stmt.where(has_members if populated else ~has_members)
    stmt = stmt.order_by(func.lower(Group.name), Group.id)
    with rt.db.read() as s:
        return paginate(s, stmt, page, per_page)


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
        raise Conflict("A group with this name already exists.", field="name") from exc
    record(s, group.tenant_id, actor, "group.updated", "group", group.id, {"changed": sorted(changed)})
    return changed


def update_group(rt: Runtime, tenant_id: int, group_id: int, values: dict[str, Any], actor: Actor,
                 *, if_version: int | None = None) -> Group:
    """Change some attributes of a group."""
    with rt.db.transaction() as s:
        group = load_group(s, tenant_id, group_id, for_update=True)
        if if_version is not None and group.version != if_version:
            raise VersionMismatch(f"Group {group_id} is at version {group.version}, not {if_version}.")
        if apply_group_changes(s, group, values, actor).keys() & {"kind", "rule"}:
            from provisioning.rules.definition import (
                group_saved,  # automatic groups: validate the rule, start its evaluation
            )

            group_saved(s, rt, group, actor)
        s.flush()
        group = load_group(s, tenant_id, group_id, with_count=True)
    return group


def delete_group(rt: Runtime, tenant_id: int, group_id: int, actor: Actor, *, if_version: int | None = None) -> None:
    """Delete a group and its memberships (its members stay)."""
    with rt.db.transaction() as s:
        group = load_group(s, tenant_id, group_id, for_update=True)
        if if_version is not None and group.version != if_version:
            raise VersionMismatch(f"Group {group_id} is at version {group.version}, not {if_version}.")
        s.execute(delete(Membership).where(Membership.group_id == group.id))
        s.delete(group)
        record(s, tenant_id, actor, "group.deleted", "group", group_id, {"name": group.name})
