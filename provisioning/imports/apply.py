"""Commit an import and apply it as a background Operation, one chunk of staged rows per call.

Every chunk is a handful of set-based statements over an id range of ``import_rows``:
``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` the memberships (or users, or enrollments)
from the staged rows, whose user ids were resolved while staging, and an ``INSERT ... SELECT``
of their activity events — all in the same transaction as the Operation's progress and
checkpoint (``save_progress``).  Staged rows are not rewritten: only the few that turn out
skipped (nothing to change) or in error are marked; a row still "ok" once the checkpoint has
passed it was applied (see ``report``).  A worker killed mid-chunk rolls the chunk back; the
re-run resumes from the last checkpoint, so each row is applied exactly once.  Replace mode
removes the members the file doesn't list with one DELETE at the end.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, select, text, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from provisioning.activity import Actor, record_many
from provisioning.db import insert_ignoring_conflicts
from provisioning.errors import Conflict, InvalidInput
from provisioning.imports import enrollments, users_apply
from provisioning.imports.events import (
    event_row,
    record_member_events,
    reevaluate_rules,
)
from provisioning.imports.marks import mark_rows as _mark
from provisioning.imports.marks import user_gone
from provisioning.imports.preview import load_import, refresh_summary
from provisioning.imports.users_apply import index_lookups
from provisioning.imports.validate import validate_staged
from provisioning.models import Group, Membership, Operation, User, utcnow
from provisioning.models.imports import Import, ImportRow
from provisioning.operations import save_progress, start_operation
from provisioning.runtime import Runtime
from provisioning.store.groups import add_group

CHUNK_MAX = 50_000  # rows; the adaptive chunk size never grows beyond this
COUNTERS = ("done", "applied", "skipped", "errors", "removed", "groups_created", "users_created", "users_updated")


class ImportAborted(Conflict):
    """An all-or-nothing import met a row it can't apply; its transaction rolls back."""


def commit_import(rt: Runtime, tenant_id: int, import_id: int, actor: Actor) -> Operation:
    """Start the Operation that applies a previewed import (re-checking it against the current data)."""
    with rt.db.transaction() as s:
        imp = load_import(s, tenant_id, import_id, for_update=True)
        if imp.status != "previewed":
            raise Conflict(f"Import {import_id} was already committed (operation {imp.operation_id}).", field="status")
        validate_staged(s, imp, (imp.summary or {}).get("email_header"), duplicates=False)
        refresh_summary(s, imp, groups=False)
        summary = imp.summary
        if imp.all_or_nothing and summary["error_count"]:
            raise InvalidInput(
                f"{summary['error_count']} row error(s) remain and all_or_nothing was asked, so nothing was applied. "
                "Fix the file or exclude those rows (PATCH the import), then commit again.",
                details={
                    "errors": [f"{summary['error_count']} row error(s); see GET /api/v1/imports/{import_id}/errors."]
                },
            )
        if not summary["entries_valid"]:
            raise InvalidInput(
                "No row of this import can be applied.", details={"errors": ["Every row has an error or was excluded."]}
            )
        if imp.format == "users":
            users_apply.check_seats_for(s, imp, summary["users_new"])
        op = start_operation(
            s, rt, tenant_id, "import", {"import_id": imp.id, "actor": actor.name}, actor, total=imp.entry_count
        )
        imp.status, imp.operation_id = "committed", op.id
    return op


def apply_import_chunk(
    rt: Runtime, operation_id: int, tenant_id: int, params: dict[str, Any], checkpoint: dict[str, Any]
) -> dict[str, Any] | None:
    """The Operation handler: apply the next chunk; returns the new checkpoint, or None when done."""
    actor = Actor(params.get("actor") or "system", "job")
    state = (
        {k: int(checkpoint.get(k, 0)) for k in COUNTERS}
        | {
            "phase": checkpoint.get("phase", "start"),
            "after": int(checkpoint.get("after", 0)),
            "size": int(checkpoint.get("size") or max(rt.settings.import_chunk_size, 1)),
        }
        | ({"last": int(checkpoint["last"])} if "last" in checkpoint else {})
    )
    with rt.db.transaction() as s:
        imp = load_import(s, tenant_id, params["import_id"], for_update=True)
        if s.get_bind().dialect.name == "postgresql":
            # A chunk's commit doesn't wait for its WAL to reach the disk.  A database crash may then
            # lose the last chunks, but never a chunk without its checkpoint (the same transaction):
            # the job redoes exactly what was lost.  The Operation's finish (a normal commit, its
            # own transaction) flushes them all before the job reports success.
            s.execute(text("SET LOCAL synchronous_commit = off"))
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
    return {
        "import_id": imp.id,
        "format": imp.format,
        "mode": imp.mode,
        "rows_done": state["done"],
        "rows_total": imp.entry_count,
        **out,
    }


def _step(rt: Runtime, s: Session, imp: Import, state: dict[str, Any], actor: Actor) -> None:
    if state["phase"] == "start":
        # No ANALYZE: the chunks probe users, groups and memberships by key (scalar subqueries, nested
        # loops), so statistics left stale by a bulk load a moment ago can't turn them into scans.
        if imp.format not in ("users", "enrollments"):
            state["groups_created"] += _create_groups(s, imp, actor)
        state["phase"] = "rows"
        return
    if state["phase"] == "rows":
        started = time.monotonic()
        if "last" not in state:  # the import's id range: min/max through the (import_id, id) index
            first, last = s.execute(
                select(func.min(ImportRow.id), func.max(ImportRow.id)).where(ImportRow.import_id == imp.id)
            ).one()
            state["after"], state["last"] = max(state["after"], (first or 1) - 1), last or 0
        if state["after"] >= state["last"]:
            state["phase"] = "remove" if imp.mode == "replace" else "done"
            return
        # A chunk is a range of ids, not "the next n rows": ORDER BY id LIMIT n would be planned from
        # statistics that call the freshly staged rows a handful, as a sort of all the rows left.
        hi = min(state["after"] + state["size"], state["last"])
        count, ok = s.execute(
            select(func.count(), func.coalesce(func.sum(case((ImportRow.status == "ok", 1), else_=0)), 0)).where(
                ImportRow.import_id == imp.id, ImportRow.id > state["after"], ImportRow.id <= hi
            )
        ).one()
        chunk = and_(ImportRow.import_id == imp.id, ImportRow.id > state["after"], ImportRow.id <= hi)
        if not ok:
            counts: dict[str, int] = {}
        elif imp.format == "users":
            counts = users_apply.apply_users_chunk(rt, s, imp, chunk, actor)
        elif imp.format == "enrollments":
            counts = enrollments.apply_enrollments_chunk(rt, s, imp, chunk, ok, actor)
        else:
            counts = _apply_members_chunk(rt, s, imp, chunk, ok, actor)
        if imp.all_or_nothing and counts.get("errors"):
            raise ImportAborted(
                f"{counts['errors']} row(s) could no longer be applied (users or groups changed "
                "since the preview); all_or_nothing was asked, so nothing was applied."
            )
        for key, value in counts.items():
            state[key] += value
        state["after"], state["done"] = hi, state["done"] + count
        state["size"] = _next_size(rt, state["size"], time.monotonic() - started)
        return
    if state["phase"] == "remove":
        state["removed"] += _remove_unlisted(rt, s, imp, actor)
        state["phase"] = "done"


def _next_size(rt: Runtime, size: int, seconds: float) -> int:
    """Grow chunks that finish well within IMPORT_CHUNK_SECONDS, shrink slow ones (never below IMPORT_CHUNK_SIZE).

    Each chunk costs a dozen statements and a commit whatever its size; a million-row file in
    2,000-row chunks pays them 500 times.  Progress still moves at least every second or so.
    """
    target, floor = rt.settings.import_chunk_seconds, max(rt.settings.import_chunk_size, 1)
    if target <= 0:
        return floor
    if seconds < target / 2:
        return min(size * 2, max(CHUNK_MAX, floor))
    if seconds > target * 1.5:
        return max(size // 2, floor)
    return size


# --- groups and memberships --------------------------------------------------------------------


def _create_groups(s: Session, imp: Import, actor: Actor) -> int:
    """Create the groups the file names that don't exist yet (one INSERT ... SELECT)."""
    t = imp.tenant_id
    if imp.format == "members":
        if imp.group_id is None:
            existing = s.scalar(
                select(Group).where(Group.tenant_id == t, func.lower(Group.name) == imp.group_name.lower())
            )
            group = existing or add_group(s, t, {"name": imp.group_name, "source": "csv"}, actor)
            imp.group_id = group.id
            return 0 if existing else 1
        return 0
    missing = (
        select(func.min(ImportRow.group_name).label("name"))
        .where(
            ImportRow.import_id == imp.id,
            ImportRow.status == "ok",
            ~exists().where(Group.tenant_id == t, func.lower(Group.name) == func.lower(ImportRow.group_name)),
        )
        .group_by(func.lower(ImportRow.group_name))
        .subquery()
    )
    now = utcnow()
    columns = Group.__table__.c
    rows = select(
        literal(t),
        missing.c.name,
        literal("manual"),
        literal("csv"),
        literal({}, columns.settings.type),
        literal(now, columns.created_at.type),
        literal(now, columns.updated_at.type),
        literal(1),
    ).where(true())
    created = s.execute(
        insert_ignoring_conflicts(s, Group.__table__)
        .from_select(["tenant_id", "name", "kind", "source", "settings", "created_at", "updated_at", "version"], rows)
        .returning(columns.id, columns.name)
    ).all()
    record_many(s, (event_row(imp, actor, "group.created", "group", gid, {"name": name}) for gid, name in created))
    return len(created)


def _group_of_entry(imp: Import):
    """The id of the (manual) group a staged row goes into: the import's group, or the one it names."""
    if imp.format == "members":
        return literal(imp.group_id, Membership.__table__.c.group_id.type)
    return (
        select(Group.id)
        .where(
            Group.tenant_id == imp.tenant_id,
            Group.kind != "automatic",
            func.lower(Group.name) == func.lower(ImportRow.group_name),
        )
        .correlate(ImportRow)
        .scalar_subquery()
    )


def _apply_members_chunk(rt: Runtime, s: Session, imp: Import, chunk, ok: int, actor: Actor) -> dict[str, int]:
    """Insert the chunk's memberships; only rows already members (or no longer applicable) are marked."""
    t = imp.tenant_id
    if imp.format == "members":
        group = s.get(Group, imp.group_id) if imp.group_id else None
        if group is None or group.kind == "automatic":
            errors = _mark(s, chunk, "error", "Not applied: the group is automatic or no longer exists.")
            return {"applied": 0, "skipped": 0, "errors": errors}
    group_id = _group_of_entry(imp)
    # A correlated scalar subquery, evaluated row by row through the primary key: an EXISTS would be
    # planned as a semi-join, and with the group's statistics stale (it is filling up right now)
    # that can mean every member of the group compared with every row of the chunk.
    member = (
        select(literal(1))
        .where(Membership.group_id == group_id, Membership.user_id == ImportRow.user_id)
        .correlate(ImportRow)
        .scalar_subquery()
        .is_not(None)
    )
    table = Membership.__table__
    columns = ["group_id", "user_id", "tenant_id", "source", "added_at"]
    values = (group_id, ImportRow.user_id, literal(t), literal("csv"), literal(utcnow(), table.c.added_at.type))
    rows = select(*values).where(chunk, ImportRow.status == "ok", group_id.is_not(None))
    if imp.format == "user-groups":
        rows = rows.distinct()  # a row may name the same group twice
    try:
        # The common case, a plain INSERT of the staged pairs (user ids were resolved in the tenant
        # while staging): one statement, no probe per row.  In a savepoint, because a member already
        # there, or a user deleted since, fails it.
        with s.begin_nested():
            added = s.execute(
                table.insert().from_select(columns, rows).returning(table.c.group_id, table.c.user_id)
            ).all()
        skipped = 0
    except IntegrityError:
        skipped = _mark(s, and_(chunk, member), "skipped", "Already a member.")
        with index_lookups(s):  # users by primary key, whatever the statistics of a table filled a moment ago say
            added = s.execute(
                insert_ignoring_conflicts(s, table)
                .from_select(
                    columns, rows.join_from(ImportRow, User, and_(User.id == ImportRow.user_id, User.tenant_id == t))
                )
                .returning(table.c.group_id, table.c.user_id)
            ).all()
    errors = 0
    if len(added) < ok - skipped:  # rows left out: their user or group went away (or a pair repeats)
        errors = _mark(
            s, and_(chunk, user_gone(t)), "error", "Not applied: no user of this tenant has this email any more."
        )
        errors += _mark(s, and_(chunk, ~member), "error", "Not applied: the group is automatic or no longer exists.")
    # Every pair left is a membership now: inserted here, or by someone else meanwhile.
    _after_membership_change(rt, s, imp, added, actor, "group.member_added")
    return {"applied": ok - skipped - errors, "skipped": skipped, "errors": errors}


def _remove_unlisted(rt: Runtime, s: Session, imp: Import, actor: Actor) -> int:
    """Replace mode: remove, in one statement, the members of the imported groups the file doesn't list."""
    table = Membership.__table__
    listed = and_(ImportRow.import_id == imp.id, ImportRow.status.in_(("ok", "applied", "skipped")))
    if imp.format == "members":
        targets = select(literal(imp.group_id)).where(exists().where(listed))
        kept = exists().where(listed, ImportRow.user_id == table.c.user_id)
    else:
        targets = (
            select(Group.id)
            .join(ImportRow, and_(func.lower(Group.name) == func.lower(ImportRow.group_name)))
            .where(listed, Group.tenant_id == imp.tenant_id)
            .distinct()
        )
        kept = exists().where(
            listed,
            ImportRow.user_id == table.c.user_id,
            Group.id == table.c.group_id,
            func.lower(ImportRow.group_name) == func.lower(Group.name),
        )
    removed = s.execute(
        table.delete()
        .where(table.c.tenant_id == imp.tenant_id, table.c.group_id.in_(targets), ~kept)
        .returning(table.c.group_id, table.c.user_id)
    ).all()
    _after_membership_change(rt, s, imp, removed, actor, "group.member_removed")
    return len(removed)


def _after_membership_change(rt: Runtime, s: Session, imp: Import, pairs, actor: Actor, action: str) -> None:
    if not pairs:
        return
    record_member_events(s, imp, actor, action, pairs)
    s.execute(
        update(Group)
        .where(Group.id.in_(sorted({gid for gid, _ in pairs})))
        .values(version=Group.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    reevaluate_rules(rt, s, imp.tenant_id, sorted({uid for _, uid in pairs}))
