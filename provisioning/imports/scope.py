"""The groups an import names, for deciding whether a group manager may commit it.

Group managers upload files for their own groups only (provisioning.permissions
decides); these helpers list the groups a preview names, existing or new, in one query, and
create a manager's new groups linked to their course before the import's job runs, so the job
finds them as existing groups the manager manages.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from provisioning.activity import Actor
from provisioning.imports.formats import FORMATS, NamedGroup
from provisioning.imports.preview import load_import, refresh_summary
from provisioning.models.imports import Import
from provisioning.runtime import Runtime
from provisioning.store.groups import add_group


def named_groups(s: Session, imp: Import) -> list[NamedGroup]:
    """Every group the import's valid rows go into (the import's own target for the members format)."""
    return FORMATS[imp.format].named_groups(s, imp)


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
        FORMATS[imp.format].adopt_created_groups(imp, created)
        refresh_summary(s, imp)
    return created
