"""Commit an import and apply it as a background Operation, one chunk of staged rows per call.

Every chunk is a handful of set-based statements over an id range of ``import_rows``:
resolve emails to users and groups by join, ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``
the memberships (or users), and mark each staged row applied, skipped or error — all in the
same transaction as the Operation's progress and checkpoint (``save_progress``).  A worker
killed mid-chunk rolls the chunk back; the re-run resumes from the last checkpoint, so each
row is applied exactly once.  Replace mode removes the members the file doesn't list with
one DELETE at the end.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, func, literal, select, true, update
from sqlalchemy.orm import Session

from ..db import insert_ignoring_conflicts
from ..errors import Conflict, InvalidInput
from ..models import Group, Membership, Operation, User, utcnow
from ..models.imports import Import, ImportRow
from ..runtime import Runtime
from ..services.activity import Actor, record_many
from ..services.groups import add_group
from ..services.operations import save_progress, start_operation
from . import users_apply
from .events import event_row, reevaluate_rules
from .preview import load_import, refresh_summary
from .staging import analyze
from .validate import mark_rows as _mark, resolve_users, validate_staged

COUNTERS = ("done", "applied", "skipped", "errors", "removed", "groups_created", "users_created", "users_updated")


class ImportAborted(Conflict):
    """An all-or-nothing import met a row it can't apply; its transaction rolls back."""


def commit_import(rt: Runtime, tenant_id: int, import_id: int, actor: Actor) -> Operation:
    """Start the Operation that applies a previewed import (re-checking it against the current data)."""
    with rt.db.transaction() as s:
        imp = load_import(s, tenant_id, import_id, for_update=True)
        if imp.status != "previewed":
            raise Conflict(f"Import {import_id} was already committed (operation {imp.operation_id}).", field="status")
        validate_staged(s, imp, (imp.summary or {}).get("email_header"))
        refresh_summary(s, imp)
        summary = imp.summary
        if imp.all_or_nothing and summary["error_count"]:
            raise InvalidInput(
                f"{summary['error_count']} row error(s) remain and all_or_nothing was asked, so nothing was applied. "
                "Fix the file or exclude those rows (PATCH the import), then commit again.",
                details={"errors": [f"{summary['error_count']} row error(s); see GET /api/v1/imports/{import_id}/errors."]})
        if not summary["entries_valid"]:
            raise InvalidInput("No row of this import can be applied.", details={"errors": ["Every row has an error or was excluded."]})
        if imp.format == "users":
            users_apply.check_seats_for(s, imp, summary["users_new"])
        op = start_operation(s, rt, tenant_id, "import", {"import_id": imp.id, "actor": actor.name},
                             actor, total=imp.entry_count)
        imp.status, imp.operation_id = "committed", op.id
    return op


def apply_import_chunk(rt: Runtime, operation_id: int, tenant_id: int, params: dict[str, Any],
                       checkpoint: dict[str, Any]) -> dict[str, Any] | None:
    """The Operation handler: apply the next chunk; returns the new checkpoint, or None when done."""
    actor = Actor(params.get("actor") or "system", "job")
    state = {k: int(checkpoint.get(k, 0)) for k in COUNTERS} | {"phase": checkpoint.get("phase", "start"),
                                                                "after": int(checkpoint.get("after", 0))}
    with rt.db.transaction() as s:
        imp = load_import(s, tenant_id, params["import_id"], for_update=True)
        if imp.all_or_nothing:
            # One transaction for the whole import: it applies completely or not at all.
            while state["phase"] != "done":
                _step(rt, s, imp, state, actor)
        else:
            _step(rt, s, imp, state, actor)
        if state["phase"] == "done":
            imp.status = "applied"
        save_progress(s, operation_id, done=state["done"], checkpoint=state, result=_result(imp, state))
    return None if state["phase"] == "done" else state


def _result(imp: Import, state: dict[str, Any]) -> dict[str, Any]:
    out = {k: state[k] for k in COUNTERS if k != "done"}
    return {"import_id": imp.id, "format": imp.format, "mode": imp.mode, "rows_done": state["done"],
            "rows_total": imp.entry_count, **out}


def _step(rt: Runtime, s: Session, imp: Import, state: dict[str, Any], actor: Actor) -> None:
    if state["phase"] == "start":
        analyze(s, "users", "groups", "memberships")  # users may have been bulk-created a moment ago
        if imp.format != "users":
            state["groups_created"] += _create_groups(s, imp, actor)
        state["phase"] = "rows"
        return
    if state["phase"] == "rows":
        bounds = (select(ImportRow.id).where(ImportRow.import_id == imp.id, ImportRow.id > state["after"])
                  .order_by(ImportRow.id).limit(max(rt.settings.import_chunk_size, 1)).subquery())
        hi, count = s.execute(select(func.max(bounds.c.id), func.count()).select_from(bounds)).one()
        if not count:
            state["phase"] = "remove" if imp.mode == "replace" else "done"
            return
        chunk = and_(ImportRow.import_id == imp.id, ImportRow.id > state["after"], ImportRow.id <= hi)
        if imp.format == "users":
            counts = users_apply.apply_users_chunk(rt, s, imp, chunk, actor)
        else:
            counts = _apply_members_chunk(rt, s, imp, chunk, actor)
        if imp.all_or_nothing and counts.get("errors"):
            raise ImportAborted(f"{counts['errors']} row(s) could no longer be applied (users or groups changed "
                                "since the preview); all_or_nothing was asked, so nothing was applied.")
        for key, value in counts.items():
            state[key] += value
        state["after"], state["done"] = hi, state["done"] + count
        return
    if state["phase"] == "remove":
        state["removed"] += _remove_unlisted(rt, s, imp, actor)
        state["phase"] = "done"


# --- groups and memberships --------------------------------------------------------------------


def _create_groups(s: Session, imp: Import, actor: Actor) -> int:
    """Create the groups the file names that don't exist yet (one INSERT ... SELECT)."""
    t = imp.tenant_id
    if imp.format == "members":
        if imp.group_id is None:
            existing = s.scalar(select(Group).where(Group.tenant_id == t, func.lower(Group.name) == imp.group_name.lower()))
            group = existing or add_group(s, t, {"name": imp.group_name, "source": "csv"}, actor)
            imp.group_id = group.id
            return 0 if existing else 1
        return 0
    missing = (select(func.min(ImportRow.group_name).label("name"))
               .where(ImportRow.import_id == imp.id, ImportRow.status == "ok",
                      ~exists().where(Group.tenant_id == t, func.lower(Group.name) == func.lower(ImportRow.group_name)))
               .group_by(func.lower(ImportRow.group_name)).subquery())
    now = utcnow()
    columns = Group.__table__.c
    rows = select(literal(t), missing.c.name, literal("manual"), literal("csv"),
                  literal({}, columns.settings.type), literal(now, columns.created_at.type),
                  literal(now, columns.updated_at.type), literal(1)).where(true())
    created = s.execute(insert_ignoring_conflicts(s, Group.__table__).from_select(
        ["tenant_id", "name", "kind", "source", "settings", "created_at", "updated_at", "version"], rows)
        .returning(columns.id, columns.name)).all()
    record_many(s, (event_row(imp, actor, "group.created", "group", gid, {"name": name}) for gid, name in created))
    return len(created)


def _group_of_row(imp: Import, group):
    """The condition tying ``group`` (Group or an alias) to a staged row."""
    if imp.format == "members":
        return group.id == imp.group_id
    return and_(group.tenant_id == imp.tenant_id, func.lower(group.name) == func.lower(ImportRow.group_name))


def _apply_members_chunk(rt: Runtime, s: Session, imp: Import, chunk, actor: Actor) -> dict[str, int]:
    group = (select(Group.id).where(_group_of_row(imp, Group), Group.tenant_id == imp.tenant_id,
                                    Group.kind != "automatic").scalar_subquery())
    resolve_users(s, imp, chunk, group_id=group)
    errors = _mark(s, and_(chunk, ImportRow.user_id.is_(None)), "error",
                   "Not applied: no user of this tenant has this email any more.")
    errors += _mark(s, and_(chunk, ImportRow.group_id.is_(None)), "error",
                    "Not applied: the group is automatic or no longer exists.")
    member = (select(literal(1)).where(Membership.group_id == ImportRow.group_id,
                                       Membership.user_id == ImportRow.user_id).scalar_subquery())
    skipped = _mark(s, and_(chunk, member.is_not(None)), "skipped", "Already a member.")
    pairs = (select(ImportRow.group_id, ImportRow.user_id, literal(imp.tenant_id), literal("csv"),
                    literal(utcnow(), Membership.__table__.c.added_at.type))
             .where(chunk, ImportRow.status == "ok").distinct())
    added = s.execute(insert_ignoring_conflicts(s, Membership.__table__).from_select(
        ["group_id", "user_id", "tenant_id", "source", "added_at"], pairs)
        .returning(Membership.__table__.c.group_id, Membership.__table__.c.user_id)).all()
    # Every pair left is a membership now: inserted here, or by someone else meanwhile.
    applied = _mark(s, chunk, "applied", "Added to the group.")
    _after_membership_change(rt, s, imp, added, actor, "group.member_added")
    return {"applied": applied, "skipped": skipped, "errors": errors}


def _remove_unlisted(rt: Runtime, s: Session, imp: Import, actor: Actor) -> int:
    """Replace mode: remove, in one statement, the members of the imported groups the file doesn't list."""
    listed = and_(ImportRow.import_id == imp.id, ImportRow.status.in_(("applied", "skipped")))
    targets = select(ImportRow.group_id).where(listed).distinct()
    table = Membership.__table__
    kept = select(ImportRow.id).where(listed, ImportRow.group_id == table.c.group_id,
                                      ImportRow.user_id == table.c.user_id).exists()
    removed = s.execute(table.delete().where(table.c.tenant_id == imp.tenant_id, table.c.group_id.in_(targets), ~kept)
                        .returning(table.c.group_id, table.c.user_id)).all()
    _after_membership_change(rt, s, imp, removed, actor, "group.member_removed")
    return len(removed)


def _after_membership_change(rt: Runtime, s: Session, imp: Import, pairs, actor: Actor, action: str) -> None:
    if not pairs:
        return
    record_many(s, (event_row(imp, actor, action, "group", gid, {"user_id": uid}) for gid, uid in pairs))
    s.execute(update(Group).where(Group.id.in_(sorted({gid for gid, _ in pairs})))
              .values(version=Group.version + 1, updated_at=utcnow()).execution_options(synchronize_session=False))
    reevaluate_rules(rt, s, imp.tenant_id, sorted({uid for _, uid in pairs}))

