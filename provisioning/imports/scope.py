"""The groups an import names, for deciding whether a group manager may commit it.

Group managers upload files for their own groups only (provisioning.permissions
decides); these helpers list the groups a preview names, existing or new, in one query, and
create a manager's new groups linked to their course before the import's job runs, so the job
finds them as existing groups the manager manages.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from provisioning.activity import Actor
from provisioning.imports.preview import load_import, refresh_summary
from provisioning.models import Group
from provisioning.models.imports import Import, ImportRow
from provisioning.runtime import Runtime
from provisioning.store.groups import add_group

LISTED = 10_000  # distinct groups of one file; more than any real upload names


@dataclass(frozen=True)
class NamedGroup:
    name: str
    group_id: int | None  # None: the import would create it
    first_row: int | None


def named_groups(s: Session, imp: Import) -> list[NamedGroup]:
    """Every group the import's valid rows go into (the import's own target for the members format)."""
    if imp.format == "users":
        return []
    if imp.format == "members":
        if imp.group_id:
            name = s.scalar(select(Group.name).where(Group.id == imp.group_id))
            return [NamedGroup(name or str(imp.group_id), imp.group_id, None)]
        return [NamedGroup(imp.group_name or "", None, None)]
    rows = s.execute(
        select(func.min(ImportRow.group_name), Group.id, func.min(ImportRow.row_no))
        .select_from(ImportRow)
        .outerjoin(
            Group, and_(Group.tenant_id == imp.tenant_id, func.lower(Group.name) == func.lower(ImportRow.group_name))
        )
        .where(ImportRow.import_id == imp.id, ImportRow.status == "ok", ImportRow.group_name.is_not(None))
        .group_by(func.lower(ImportRow.group_name), Group.id)
        .order_by(func.min(ImportRow.row_no))
        .limit(LISTED)
    ).all()
    return [NamedGroup(name, gid, row) for name, gid, row in rows]


def import_groups(rt: Runtime, tenant_id: int, import_id: int) -> tuple[Import, list[NamedGroup]]:
    with rt.db.read() as s:
        imp = load_import(s, tenant_id, import_id)
        return imp, named_groups(s, imp)


def create_new_groups(rt: Runtime, tenant_id: int, import_id: int, actor: Actor) -> list[int]:
    """Create the groups an import would create (ids returned), so they exist before its job runs."""
    with rt.db.transaction() as s:
        imp = load_import(s, tenant_id, import_id, for_update=True)
        created = []
        for named in named_groups(s, imp):
            if named.group_id is None and named.name:
                created.append(add_group(s, tenant_id, {"name": named.name}, actor).id)
        if imp.format == "members" and imp.group_name and created:
            imp.group_id, imp.group_name = created[0], None
        refresh_summary(s, imp)
    return created
