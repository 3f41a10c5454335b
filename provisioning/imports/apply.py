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

from dataclasses import dataclass, fields
from typing import Any, Self

from sqlalchemy import ColumnElement, and_, case, func, select, text
from sqlalchemy.orm import Session

from provisioning.activity import Actor
from provisioning.chunking import next_size, timed
from provisioning.errors import Conflict, InvalidInput
from provisioning.i18n import N_, Message
from provisioning.imports.formats import FORMATS
from provisioning.imports.preview import load_import, refresh_summary
from provisioning.imports.validate import validate_staged
from provisioning.models import Operation
from provisioning.models.imports import Import, ImportRow
from provisioning.operations import Checkpoint, save_progress, start_operation
from provisioning.runtime import Runtime

CHUNK_MAX = 50_000  # rows; the adaptive chunk size never grows beyond this (unless IMPORT_CHUNK_SIZE is larger)
CHUNK_GROWTH = 2  # a chunk is at most twice (or half) the size of the one before
COUNTERS = (
    "done",
    "applied",
    "skipped",
    "errors",
    "removed",
    "groups_created",
    "users_created",
    "users_updated",
    # An import into one group (group_target): members added, invitations queued, people always-included.
    "members_added",
    "invited",
    "included",
)
GROUP_COUNTERS = ("members_added", "invited", "included")


@dataclass
class ImportCheckpoint(Checkpoint):
    """Where an import job is, stored as the Operation's checkpoint (JSON) after every chunk.

    ``phase``: start (create groups) -> rows (apply chunks of ids ``after`` < id <= ``last``)
    -> remove (replace mode) -> done.  The JSON is the same dict as ever: the counters, then
    phase, after, size, and ``last`` once the id range is known.
    """

    done: int = 0
    applied: int = 0
    skipped: int = 0
    errors: int = 0
    removed: int = 0
    groups_created: int = 0
    users_created: int = 0
    users_updated: int = 0
    members_added: int = 0
    invited: int = 0
    included: int = 0
    phase: str = "start"
    after: int = 0
    size: int = 0
    last: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any] | None, *, size: int = 0) -> Self:
        """Read a stored checkpoint (any version: missing keys take their start values, numbers
        stored as text are read as numbers); ``size``: the first chunk's, when none is stored."""
        data = data or {}
        return cls(
            size=int(data.get("size") or size),
            phase=data.get("phase", "start"),
            after=int(data.get("after", 0)),
            last=int(data["last"]) if "last" in data else None,
            **{k: int(data.get(k, 0)) for k in COUNTERS},
        )

    def to_json(self) -> dict[str, Any]:
        # The counters of an import into one group are stored once they count something, so a
        # checkpoint of any other import reads and writes back exactly as before they existed.
        return {k: v for k, v in super().to_json().items() if k not in GROUP_COUNTERS or v}

    def add(self, counts: dict[str, int]) -> None:
        for key, value in counts.items():
            if key not in COUNTERS:
                raise KeyError(key)
            setattr(self, key, getattr(self, key) + value)


assert {f.name for f in fields(ImportCheckpoint)} == {*COUNTERS, "phase", "after", "size", "last"}


class ImportAborted(Conflict):
    """An all-or-nothing import met a row it can't apply; its transaction rolls back."""


def commit_import(rt: Runtime, tenant_id: int, import_id: int, actor: Actor) -> Operation:
    """Start the Operation that applies a previewed import (re-checking it against the current data)."""
    with rt.db.transaction() as s:
        imp = load_import(s, tenant_id, import_id, for_update=True)
        if imp.status != "previewed":
            raise Conflict(
                N_("Import %(import_id)s was already committed (operation %(operation_id)s)."),
                field="status",
                import_id=import_id,
                operation_id=imp.operation_id,
            )
        validate_staged(s, imp, (imp.summary or {}).get("email_header"), duplicates=False)
        refresh_summary(s, imp, groups=False)
        summary = imp.summary
        if imp.all_or_nothing and summary["error_count"]:
            raise InvalidInput(
                N_(
                    "%(error_count)s row error(s) remain and all_or_nothing was asked, so nothing was applied. Fix the "
                    "file or exclude those rows (PATCH the import), then commit again."
                ),
                details={
                    "errors": [
                        Message(
                            N_("%(error_count)s row error(s); see GET /api/v1/imports/%(import_id)s/errors."),
                            error_count=summary["error_count"],
                            import_id=import_id,
                        )
                    ]
                },
                error_count=summary["error_count"],
            )
        if not summary["entries_valid"]:
            raise InvalidInput(
                N_("No row of this import can be applied."),
                details={"errors": [N_("Every row has an error or was excluded.")]},
            )
        FORMATS[imp.format].check_commit(s, imp, summary)
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
    state = ImportCheckpoint.from_json(checkpoint, size=max(rt.settings.import_chunk_size, 1))
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
            while state.phase != "done":
                _step(rt, s, imp, state, actor)
        else:
            _step(rt, s, imp, state, actor)
        if state.phase == "done":
            imp.status = "applied"
        save_progress(s, operation_id, done=state.done, checkpoint=state.to_json(), result=_result(imp, state))
    return None if state.phase == "done" else state.to_json()


def _result(imp: Import, state: ImportCheckpoint) -> dict[str, Any]:
    out = {k: getattr(state, k) for k in COUNTERS if k != "done"}
    return {
        "import_id": imp.id,
        "format": imp.format,
        "mode": imp.mode,
        "rows_done": state.done,
        "rows_total": imp.entry_count,
        **out,
    }


def _step(rt: Runtime, s: Session, imp: Import, state: ImportCheckpoint, actor: Actor) -> None:
    fmt = FORMATS[imp.format]
    if state.phase == "start":
        # No ANALYZE: the chunks probe users, groups and memberships by key (scalar subqueries, nested
        # loops), so statistics left stale by a bulk load a moment ago can't turn them into scans.
        state.groups_created += fmt.prepare(s, imp, actor)
        state.phase = "rows"
        return
    if state.phase == "rows":
        with timed() as took:
            if state.last is None:  # the import's id range: min/max through the (import_id, id) index
                first, last = s.execute(
                    select(func.min(ImportRow.id), func.max(ImportRow.id)).where(ImportRow.import_id == imp.id)
                ).one()
                state.after, state.last = max(state.after, (first or 1) - 1), last or 0
            if state.after >= state.last:
                state.phase = "remove" if imp.mode == "replace" else "done"
                return
            # A chunk is a range of ids, not "the next n rows": ORDER BY id LIMIT n would be planned from
            # statistics that call the freshly staged rows a handful, as a sort of all the rows left.
            hi = min(state.after + state.size, state.last)
            count, ok = s.execute(
                select(func.count(), func.coalesce(func.sum(case((ImportRow.status == "ok", 1), else_=0)), 0)).where(
                    ImportRow.import_id == imp.id, ImportRow.id > state.after, ImportRow.id <= hi
                )
            ).one()
            chunk = id_range(imp, state.after, hi)
            counts = fmt.apply_chunk(rt, s, imp, chunk, ok, actor) if ok else {}
            if imp.all_or_nothing and counts.get("errors"):
                raise ImportAborted(
                    f"{counts['errors']} row(s) could no longer be applied (users or groups changed "
                    "since the preview); all_or_nothing was asked, so nothing was applied."
                )
            state.add(counts)
            state.after, state.done = hi, state.done + count
        state.size = chunk_size(rt, state.size, took.seconds)
        return
    if state.phase == "remove":
        state.removed += fmt.remove_unlisted(rt, s, imp, actor)
        state.phase = "done"


def id_range(imp: Import, after: int, through: int) -> ColumnElement[bool]:
    """The staged rows of one chunk: ``after`` < id <= ``through`` of the import's rows."""
    return and_(ImportRow.import_id == imp.id, ImportRow.id > after, ImportRow.id <= through)


def chunk_size(rt: Runtime, size: int, seconds: float) -> int:
    """The next chunk's size: the shared sizer (provisioning.chunking) towards IMPORT_CHUNK_SECONDS a chunk.

    Each chunk costs a dozen statements and a commit whatever its size; a million-row file in
    2,000-row chunks pays them 500 times.  Progress still moves at least every second or so.
    At most twice (or half) the last size per chunk, never below IMPORT_CHUNK_SIZE nor above
    50,000 rows; IMPORT_CHUNK_SECONDS=0 keeps IMPORT_CHUNK_SIZE.
    """
    target, floor = rt.settings.import_chunk_seconds, max(rt.settings.import_chunk_size, 1)
    if target <= 0:
        return floor
    return next_size(size, seconds, minimum=floor, maximum=max(CHUNK_MAX, floor), target=target, growth=CHUNK_GROWTH)
