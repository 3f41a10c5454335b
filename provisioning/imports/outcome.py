"""What an import's run did, as opposed to what its preview forecast.

The preview's figures (rows, matched users, each group's ``members_after``) are a forecast
made before anything changed.  Once the import is committed the run is what counts: a Stop
after 3,000 of 50,000 rows must not leave "members_after: 50000" on show.  So an import that
ran (or is running, or was stopped, or failed) reports the run's own figures: ``result`` is
its Operation's counters (the same as ``GET /operations/{id}``), and each group's
``members_after`` is the group's members now, the forecast kept as ``preview_members_after``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from provisioning.models import Group, Membership, Operation
from provisioning.models.imports import Import
from provisioning.runtime import Runtime

RESULT_FIGURES = (
    "rows_done",
    "rows_total",
    "applied",
    "skipped",
    "errors",
    "removed",
    "groups_created",
    "users_created",
    "users_updated",
    "members_added",  # an import into one group (formats/group_target.py)
    "invited",
    "included",
)


def run_result(s: Session, imp: Import) -> dict[str, Any] | None:
    """The run's own figures (None before the import is committed)."""
    if imp.operation_id is None:
        return None
    op = s.get(Operation, imp.operation_id)
    if op is None:
        return None
    result = op.result or {}
    figures = {k: int(result.get(k, 0)) for k in RESULT_FIGURES}
    figures["rows_done"] = int(result.get("rows_done", op.progress_done or 0))
    figures["rows_total"] = int(result.get("rows_total", imp.entry_count or 0))
    return {"operation_id": op.id, "status": op.status, "stopped": bool(result.get("cancelled")), **figures}


def groups_after_run(s: Session, imp: Import, groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The preview's groups with the run's figures: members now as ``members_after``, the forecast beside it."""
    names = [g["name"] for g in groups if g.get("name")]
    by_name: dict[str, int] = (
        dict(
            s.execute(
                select(func.lower(Group.name), Group.id).where(
                    Group.tenant_id == imp.tenant_id, func.lower(Group.name).in_([n.lower() for n in names])
                )
            ).all()
        )
        if names
        else {}
    )
    ids = {i for g in groups if (i := g.get("id") or by_name.get((g.get("name") or "").lower())) is not None}
    counts: dict[int, int] = (
        dict(
            s.execute(
                select(Membership.group_id, func.count())
                .where(Membership.group_id.in_(sorted(ids)))
                .group_by(Membership.group_id)
            ).all()
        )
        if ids
        else {}
    )
    out = []
    for g in groups:
        gid = g.get("id") or by_name.get((g.get("name") or "").lower())
        now = counts.get(gid, 0) if gid is not None else g.get("members_before", 0)
        out.append({**g, "id": gid, "preview_members_after": g.get("members_after"), "members_after": now})
    return out


def preview_figures(rt: Runtime, tenant_id: int, operation_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The preview's counts of the imports these operations ran, by operation id (one query): rows and
    entries read, rows with errors and rows left out, which the run skipped and a result should name."""
    if not operation_ids:
        return {}
    with rt.db.read() as s:
        imports = s.scalars(
            select(Import).where(Import.tenant_id == tenant_id, Import.operation_id.in_(sorted(set(operation_ids))))
        ).all()
        return {
            imp.operation_id: {
                "rows": imp.row_count,
                "entries": imp.entry_count,
                "error_rows": (imp.summary or {}).get("error_rows", 0),
                "excluded": (imp.summary or {}).get("excluded", 0),
            }
            for imp in imports
            if imp.operation_id is not None
        }
