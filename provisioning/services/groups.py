"""Groups: create, read, list, update, delete.  Member counts are counted in SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import with_expression

from provisioning.activity import Actor, record
from provisioning.errors import InvalidInput, VersionMismatch
from provisioning.i18n import N_, Message
from provisioning.models import GROUP_KINDS, Group, Membership, Operation
from provisioning.pagination import Page, paginate
from provisioning.rules.definition import group_saved  # automatic groups: validate the rule, start its evaluation
from provisioning.runtime import Runtime
from provisioning.sql import escape_like
from provisioning.store.groups import (
    add_group,
    apply_group_changes,
    load_group,
    member_count_expr,
)


def create_group(rt: Runtime, tenant_id: int, values: dict[str, Any], actor: Actor) -> Group:
    """Create a group (kind manual unless told otherwise)."""
    with rt.db.transaction() as s:
        group = add_group(s, tenant_id, values, actor)
        group_saved(s, rt, group, actor)
        return group


def get_group(rt: Runtime, tenant_id: int, group_id: int) -> Group:
    with rt.db.read() as s:
        return load_group(s, tenant_id, group_id, with_count=True)


def list_groups(
    rt: Runtime,
    tenant_id: int,
    *,
    q: str | None = None,
    populated: bool | None = None,
    kind: str | None = None,
    page: int = 1,
    per_page: int = 50,
    within: Any = None,
) -> Page[Group]:
    """Groups of the tenant, by name; ``q`` is a case-insensitive substring of the name.

    ``within`` (a SELECT of group ids, e.g. :func:`.permissions.group_scope`) keeps only those groups.
    """
    if kind and kind not in GROUP_KINDS:
        raise InvalidInput(
            N_("Unknown kind %(kind)r."),
            details={"kind": [Message(N_("Must be one of %(choices)s."), choices=", ".join(GROUP_KINDS))]},
            kind=kind,
        )
    stmt = (
        select(Group)
        .where(Group.tenant_id == tenant_id)
        .options(with_expression(Group.member_count, member_count_expr()))
    )
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


def update_group(
    rt: Runtime, tenant_id: int, group_id: int, values: dict[str, Any], actor: Actor, *, if_version: int | None = None
) -> Group:
    """Change some attributes of a group."""
    with rt.db.transaction() as s:
        group = load_group(s, tenant_id, group_id, for_update=True)
        if if_version is not None and group.version != if_version:
            raise VersionMismatch(
                N_("Group %(group_id)s is at version %(version)s, not %(if_version)s."),
                group_id=group_id,
                version=group.version,
                if_version=if_version,
            )
        if apply_group_changes(s, group, values, actor).keys() & {"kind", "rule"}:
            group_saved(s, rt, group, actor)
        s.flush()
        group = load_group(s, tenant_id, group_id, with_count=True)
    return group


def delete_group(rt: Runtime, tenant_id: int, group_id: int, actor: Actor, *, if_version: int | None = None) -> None:
    """Delete a group and its memberships (its members stay)."""
    with rt.db.transaction() as s:
        group = load_group(s, tenant_id, group_id, for_update=True)
        if if_version is not None and group.version != if_version:
            raise VersionMismatch(
                N_("Group %(group_id)s is at version %(version)s, not %(if_version)s."),
                group_id=group_id,
                version=group.version,
                if_version=if_version,
            )
        s.execute(delete(Membership).where(Membership.group_id == group.id))
        s.delete(group)
        record(s, tenant_id, actor, "group.deleted", "group", group_id, {"name": group.name})


def evaluation_status(rt: Runtime, tenant_id: int, group_id: int) -> str | None:
    """Where an automatic group's latest evaluation is: "evaluating" (queued or running), "failed",
    "rule_error" (its rule stopped compiling), or None (done, or not an automatic group)."""
    with rt.db.read() as s:
        group = load_group(s, tenant_id, group_id)
        if group.kind != "automatic":
            return None
        if (group.settings or {}).get("rule_error"):
            return "rule_error"
        op_id = (group.settings or {}).get("evaluation_operation_id")
        if not isinstance(op_id, int):
            return None
        status = s.scalar(select(Operation.status).where(Operation.tenant_id == tenant_id, Operation.id == op_id))
    if status in ("queued", "running"):
        return "evaluating"
    return "failed" if status == "failed" else None
