"""Batch actions: one action applied to a selection of users, as a background Operation.

The request is validated up front (the action's name and params; a 400 names the
param), then an Operation of type ``batch_action`` is committed and enqueued.  The
job resolves the selection — ids, a group's members, or a SCIM filter — in keyset
chunks ordered by user id, and applies the action to each chunk set-based, in the
chunk's own transaction together with its progress.  The checkpoint holds the
counts and the ids done so far (as id ranges); per-user failures go to the
Operation's errors.  Stop is honoured between chunks and the result then says who
was done.  Each action is declared in :mod:`.registry`; its work lives in :mod:`.steps`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, literal, select, tuple_, update
from sqlalchemy.orm import Session

from provisioning.activity import Actor
from provisioning.batch.registry import ACTIONS, check_action, own_access_refusal, validate_params
from provisioning.batch.steps import Step, StepContext, export_header
from provisioning.chunking import next_size, timed
from provisioning.db import id_in
from provisioning.errors import Conflict, Forbidden, InvalidInput, NotFound
from provisioning.filters.translate import InvalidFilter, compile_filter
from provisioning.i18n import N_, Message
from provisioning.models import ExportChunk, Membership, Operation, User
from provisioning.operations import Checkpoint, save_progress, start_operation
from provisioning.rules import definition as rules
from provisioning.rules.references import Change
from provisioning.runtime import Runtime
from provisioning.store.groups import load_group

OPERATION_TYPE = "batch_action"
MAX_USER_IDS = 100_000
MAX_ERRORS = 1000
DEFAULT_CHUNK = 2000  # users in the first chunk; later chunks are sized by time (.chunk_sizing)
MAX_CHUNK = 50_000  # PostgreSQL: a chunk's ids travel as one array parameter
SQLITE_MAX_CHUNK = DEFAULT_CHUNK  # SQLite binds each id of an IN list, and refuses more than 32,766
# Actions that change what automatic group rules look at (status, attributes, other groups).
RULE_INPUTS = frozenset(a.name for a in ACTIONS.values() if a.touches_rule_inputs)


def chunk_size(rt: Runtime) -> int:
    return max(1, rt.settings.batch_chunk_size or DEFAULT_CHUNK)


def _fixed_chunks(rt: Runtime) -> bool:
    """A chunk size set by hand (BATCH_CHUNK_SIZE) is kept; otherwise chunks follow the time they take."""
    return rt.settings.batch_chunk_size is not None


def compile_user_filter(text: str, tenant_id: int):
    """A SQL condition on User from a filter in the SCIM filter language (RFC 7644 §3.4.2.2)."""
    try:
        return compile_filter(text, "User", tenant_id)
    except InvalidFilter as exc:
        raise InvalidInput(
            N_("The filter is invalid: %(problem)s"), details={"filter": [str(exc)]}, problem=exc
        ) from None


def _selection(
    s: Session, tenant_id: int, user_ids: list[int] | None, group_id: int | None, filter: str | None
) -> tuple[dict[str, Any], int]:
    given = [
        name
        for name, value in (("user_ids", user_ids), ("group_id", group_id), ("filter", filter))
        if value is not None
    ]
    if len(given) != 1:
        raise InvalidInput(
            N_("Select users with exactly one of user_ids, group_id or filter."),
            details={"user_ids": [N_("Give exactly one of user_ids, group_id or filter.")]},
        )
    if user_ids is not None:
        ids = sorted({int(i) for i in user_ids})
        if not ids:
            raise InvalidInput(N_("user_ids is empty."), details={"user_ids": [N_("Select at least one user.")]})
        if len(ids) > MAX_USER_IDS:
            raise InvalidInput(
                N_("At most %(most)s user ids per batch action; select a group or a filter."),
                details={"user_ids": [Message(N_("At most %(most)s ids."), most=MAX_USER_IDS)]},
                most=MAX_USER_IDS,
            )
        return {"user_ids": ids}, len(ids)
    if group_id is not None:
        group = load_group(s, tenant_id, group_id)
        total = s.scalar(select(func.count()).select_from(Membership).where(Membership.group_id == group.id))
        return {"group_id": group.id}, total or 0
    assert filter is not None  # exactly one of the three was given
    condition = compile_user_filter(filter, tenant_id)
    total = s.scalar(select(func.count()).select_from(User).where(User.tenant_id == tenant_id, condition))
    return {"filter": filter}, total or 0


def request_batch_action(
    rt: Runtime,
    tenant_id: int,
    action: str,
    params: dict[str, Any] | None,
    actor: Actor,
    *,
    user_ids: list[int] | None = None,
    group_id: int | None = None,
    filter: str | None = None,
) -> Operation:
    """Validate a batch action and start its Operation; returns the queued Operation."""
    check_action(action)
    refusal = own_access_refusal(action, actor.user_id, user_ids or ())
    if refusal:
        raise Forbidden(refusal)
    with rt.db.transaction() as s:
        clean = validate_params(s, tenant_id, action, params or {})
        selection, total = _selection(s, tenant_id, user_ids, group_id, filter)
        return start_operation(
            s,
            rt,
            tenant_id,
            OPERATION_TYPE,
            {
                "action": action,
                "params": clean,
                "selection": selection,
                "chunk_size": chunk_size(rt),
                "fixed_chunks": _fixed_chunks(rt),
                "actor": actor.name,
                "channel": actor.channel,
                "actor_user_id": actor.user_id,
            },
            actor,
            total=total,
        )


def next_chunk(
    s: Session, tenant_id: int, selection: dict[str, Any], after: int, size: int
) -> tuple[list[int], list[int], int]:
    """The next chunk of the selection after user id ``after``: (ids of the tenant's users, unknown ids, last id)."""
    if "user_ids" in selection:
        ids = selection["user_ids"]  # sorted when the request was validated
        start = bisect_right(ids, after)
        wanted = ids[start : start + size]
        if not wanted:
            return [], [], after
        found = sorted(s.scalars(select(User.id).where(User.tenant_id == tenant_id, id_in(s, User.id, wanted))))
        known = set(found)
        return found, [i for i in wanted if i not in known], wanted[-1]
    if "group_id" in selection:
        # A range of the primary key (group_id, user_id), written as a row comparison: with
        # "user_id > after" PostgreSQL's generic plan for this prepared statement walked the
        # user_id index across every group's memberships (100 ms a chunk at 100,000 members).
        # A group's memberships are all of its tenant's users, so no join with users is needed.
        group_id = selection["group_id"]
        stmt = (
            select(Membership.user_id)
            .where(
                Membership.group_id == group_id,
                Membership.tenant_id == tenant_id,
                tuple_(Membership.group_id, Membership.user_id) > tuple_(literal(group_id), literal(after)),
            )
            .order_by(Membership.group_id, Membership.user_id)
            .limit(size)
        )
    else:
        stmt = (
            select(User.id)
            .where(User.tenant_id == tenant_id, compile_user_filter(selection["filter"], tenant_id), User.id > after)
            .order_by(User.id)
            .limit(size)
        )
    ids = list(s.scalars(stmt))
    return ids, [], (ids[-1] if ids else after)


def add_ranges(ranges: list[list[int]], ids: list[int]) -> list[list[int]]:
    """Extend sorted [first, last] id ranges with ascending ``ids`` (consecutive ids share a range)."""
    for i in ids:
        if ranges and ranges[-1][1] + 1 >= i:
            ranges[-1][1] = max(ranges[-1][1], i)
        else:
            ranges.append([i, i])
    return ranges


def batch_action_chunk(
    rt: Runtime, operation_id: int, tenant_id: int, params: dict[str, Any], checkpoint: dict[str, Any]
) -> dict[str, Any] | None:
    """Apply the action to the next chunk of the selection; returns the new checkpoint, or None when done."""
    return run_chunk(rt, operation_id, tenant_id, params, checkpoint, ACTIONS[params["action"]].step)


@dataclass
class BatchCheckpoint(Checkpoint):
    """A batch action between chunks: the keyset position (last user id handled), the chunks run,
    the counts by outcome, the id ranges done, whether every automatic group must be re-evaluated at
    the end, and the next chunk's size."""

    after: int = 0
    chunks: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    done_ranges: list[list[int]] = field(default_factory=list)
    reevaluate_all: bool = False
    chunk_size: int | None = None


def run_chunk(
    rt: Runtime, operation_id: int, tenant_id: int, params: dict[str, Any], checkpoint: dict[str, Any], step: Step
) -> dict[str, Any] | None:
    """Run ``step`` on the next chunk of ``params["selection"]``, recording progress in the same transaction."""
    at = BatchCheckpoint.from_json(checkpoint)
    after, seq, counts = at.after, at.chunks, dict(at.counts)
    ranges: list[list[int]] = [list(r) for r in at.done_ranges]
    reevaluate_all = at.reevaluate_all
    actor = Actor(params.get("actor", "system"), params.get("channel", "job"), params.get("actor_user_id"))
    size = int(at.chunk_size or params.get("chunk_size", DEFAULT_CHUNK))
    with timed() as took, rt.db.transaction() as s:
        ids, unknown, last = next_chunk(s, tenant_id, params["selection"], after, size)
        if not ids and not unknown:
            if at.reevaluate_all:
                _evaluate_all_rules(s, rt, tenant_id, actor, _rule_change(params))
            return None
        ctx = StepContext(
            s=s, rt=rt, tenant_id=tenant_id, operation_id=operation_id, actor=actor, params=params["params"], seq=seq
        )
        failures = [{"user_id": i, "message": "No user with this id in the tenant."} for i in unknown]
        # A group or filter selection may include the acting user: never end their own access.
        refusal = own_access_refusal(params["action"], actor.user_id, ids)
        if refusal:
            ids = [i for i in ids if i != actor.user_id]
            failures.append({"user_id": actor.user_id, "message": refusal})
        outcome = step(ctx, ids) if ids else None
        if outcome is not None:
            counts["changed"] = counts.get("changed", 0) + len(outcome.changed)
            for reason, n in outcome.skipped.items():
                counts[reason] = counts.get(reason, 0) + n
            failures += [{"user_id": uid, "message": msg} for uid, msg in outcome.failed]
            failed_ids = {uid for uid, _ in outcome.failed}
            add_ranges(ranges, [i for i in ids if i not in failed_ids])
            if _follow_rules(s, rt, tenant_id, params, outcome.changed):
                reevaluate_all = True
        counts["processed"] = counts.get("processed", 0) + len(ids) + len(unknown) + (1 if refusal else 0)
        counts["failed"] = counts.get("failed", 0) + len(failures)
        new = BatchCheckpoint(
            after=last,
            chunks=seq + 1,
            counts=counts,
            done_ranges=ranges,
            reevaluate_all=reevaluate_all,
            chunk_size=size,
        )
        save_progress(
            s,
            operation_id,
            done=counts["processed"],
            checkpoint=new.to_json(),
            result={"action": params["action"], **counts, "done_through_user_id": last, "done_ranges": ranges},
        )
        if failures:
            _append_errors(s, operation_id, failures)
    if params.get("fixed_chunks") is False:  # older operations, without the flag, keep their size
        largest = MAX_CHUNK if rt.db.dialect == "postgresql" else SQLITE_MAX_CHUNK
        new.chunk_size = next_size(size, took.seconds, minimum=min(DEFAULT_CHUNK, largest), maximum=largest)
    return new.to_json()


def _follow_rules(s: Session, rt: Runtime, tenant_id: int, params: dict[str, Any], changed: list[int]) -> bool:
    """Let automatic groups follow the users an action changed, in the chunk's transaction.

    Returns True when there were too many to re-evaluate inline: the job then queues one
    evaluation per automatic group whose rule reads what the action changes, when it has finished.
    """
    if params["action"] not in RULE_INPUTS or not changed:
        return False
    if len(changed) > rules.INLINE_USERS:
        return True
    rules.reevaluate_users(s, tenant_id, changed, rt=rt, change=_rule_change(params))
    return False


def _rule_change(params: dict[str, Any]) -> Change:
    """What an action changes, as rules see it: membership of its groups, or the users' attributes (and
    their enrollments: a deactivation ends them)."""
    given = params.get("params") or {}
    if params["action"] == "add_to_groups":
        return Change(groups=frozenset(int(g) for g in given.get("group_ids") or ()))
    if params["action"] == "remove_from_group" and given.get("group_id") is not None:
        return Change(groups=frozenset({int(given["group_id"])}))
    return Change(attributes=True, enrollments=True)


def _evaluate_all_rules(s: Session, rt: Runtime, tenant_id: int, actor: Actor, change: Change) -> None:
    # One per dependent group, joining its pending evaluation if it has one (rules.pending).
    for group in rules.dependent_groups(s, tenant_id, change):
        rules.start_evaluation(s, rt, group, actor)


def _append_errors(s: Session, operation_id: int, failures: list[dict[str, Any]]) -> None:
    current = s.scalar(select(Operation.errors).where(Operation.id == operation_id)) or []
    room = MAX_ERRORS - len(current)
    if room > 0:
        s.execute(update(Operation).where(Operation.id == operation_id).values(errors=current + failures[:room]))


def export_lines(rt: Runtime, tenant_id: int, operation_id: int) -> Iterator[str]:
    """The CSV of a finished export_csv batch action: the header, then each chunk as the job wrote it.

    Checks run before the first line; chunks are read one at a time, so memory stays flat.
    """
    with rt.db.read() as s:
        op = s.get(Operation, operation_id)
        if (
            op is None
            or op.tenant_id != tenant_id
            or op.type != OPERATION_TYPE
            or (op.params or {}).get("action") != "export_csv"
        ):
            raise NotFound(N_("No export with operation id %(operation_id)s."), operation_id=operation_id)
        if op.status != "succeeded":
            raise Conflict(
                N_("The export is %(status)s; it can be downloaded once it has succeeded."),
                field="status",
                status=op.status,
            )
        seqs = list(
            s.scalars(select(ExportChunk.seq).where(ExportChunk.operation_id == operation_id).order_by(ExportChunk.seq))
        )

    def lines() -> Iterator[str]:
        yield export_header()
        for seq in seqs:
            with rt.db.read() as s:
                yield (
                    s.scalar(
                        select(ExportChunk.content).where(
                            ExportChunk.operation_id == operation_id, ExportChunk.seq == seq
                        )
                    )
                    or ""
                )

    return lines()
