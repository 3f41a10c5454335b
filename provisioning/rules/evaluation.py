"""The full evaluation of an automatic group's rule: a chunked, resumable Operation ("rule_evaluation").

Each chunk covers the next users of the tenant by id (keyset) and, in one transaction,
inserts the matching-but-missing members and deletes the present-but-no-longer-matching
ones (two set-based statements, which write the per-user events too on PostgreSQL), then
saves its checkpoint with its work.  A repeated chunk changes nothing, so a crash or a
second worker is harmless.

Chunks are sized by time (:mod:`.chunk_sizing`): the first covers CHUNK users, later ones
as many as take about half a second, so progress and Stop come at least every second or so
while a fast database evaluates 100,000 users in a few chunks instead of twenty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from provisioning.activity import Actor
from provisioning.chunking import next_size, timed
from provisioning.errors import InvalidInput
from provisioning.filters.translate import InvalidFilter
from provisioning.i18n import N_
from provisioning.models import Group, Operation, User
from provisioning.operations import Checkpoint, save_progress
from provisioning.rules.definition import compile_rule, mark_broken, rule_error
from provisioning.rules.membership import apply_rule
from provisioning.runtime import Runtime

OPERATION_TYPE = "rule_evaluation"
CHUNK = 5000  # users in the first chunk (and the smallest later chunk)
LISTED_CHUNK = 20_000  # listed users per chunk of an evaluation of only the users a change touched
MAX_CHUNK = 500_000  # only counts and a sample of ids come back to Python, so memory stays flat


@dataclass
class EvaluationCheckpoint(Checkpoint):
    """The keyset position of a full evaluation, its counts, and (between chunks in one run) the
    next chunk's size; the size is not stored, so a resumed evaluation starts small again."""

    after_user_id: int = 0
    done: int = 0
    added: int = 0
    removed: int = 0
    chunk: int | None = None


def _load(s, tenant_id: int, group_id: int) -> Group | None:
    return s.scalar(select(Group).where(Group.id == group_id, Group.tenant_id == tenant_id))


def evaluate_chunk(
    rt: Runtime, operation_id: int, tenant_id: int, params: dict[str, Any], checkpoint: dict[str, Any]
) -> dict[str, Any] | None:
    """One chunk of a full evaluation; returns the new checkpoint, or None when done."""
    actor = Actor(params.get("actor") or "rule", "rule")
    at = EvaluationCheckpoint.from_json(checkpoint)
    size = at.chunk or CHUNK
    broken: str | None = None
    with timed() as took, rt.db.transaction() as s:
        group = _load(s, tenant_id, params["group_id"])
        if group is None or group.kind != "automatic" or not group.rule:
            # Deleted, or made manual, since the evaluation was asked for: nothing left to do.
            save_progress(
                s,
                operation_id,
                result={
                    "added": at.added,
                    "removed": at.removed,
                    "skipped": "the group is gone or no longer automatic",
                },
            )
            return None
        try:
            compiled = compile_rule(
                s, tenant_id, group.rule, custom=(group.settings or {}).get("rule_custom_attributes", ())
            )
        except InvalidFilter as exc:
            broken = rule_error(exc).message
            mark_broken(s, group, broken, actor)
        if broken is None:
            if (group.settings or {}).get("rule_error"):
                group.settings = {k: v for k, v in group.settings.items() if k != "rule_error"}
            # The chunks stop at the tenant's last user id when the evaluation was asked for
            # (params["last_user_id"]), so the last keyset scan ends at the tenant's last user instead of
            # walking the rest of the table.  Users added since were evaluated one by one when created.
            if params.get("user_ids") is not None:
                return _evaluate_listed(s, operation_id, group, compiled.condition, params["user_ids"], at, actor)
            last = params.get("last_user_id")
            bound = [User.id <= int(last)] if last is not None else []
            ids = (
                select(User.id)
                .where(User.tenant_id == tenant_id, User.id > at.after_user_id, *bound)
                .order_by(User.id)
                .limit(size)
                .subquery()
            )
            upper, count = s.execute(select(func.max(ids.c.id), func.count())).one()
            if upper is None:
                return None
            added, removed = apply_rule(s, group, compiled.condition, at.after_user_id, upper, actor)
            new = EvaluationCheckpoint(
                after_user_id=upper, done=at.done + count, added=at.added + added, removed=at.removed + removed
            )
            save_progress(
                s,
                operation_id,
                done=new.done,
                checkpoint=new.to_json(),
                result={"added": new.added, "removed": new.removed},
            )
    if broken is not None:
        # The group was marked (committed above); the Operation fails with the reason.
        raise InvalidInput(
            N_("The rule of this group is broken and was not applied: %(broken)s"),
            details={"rule": [broken]},
            broken=broken,
        )
    if count < size or (last is not None and upper >= int(last)):
        return None  # that was the last chunk: no further transaction just to find nothing
    new.chunk = next_size(size, took.seconds, minimum=CHUNK, maximum=MAX_CHUNK)
    return new.to_json()


def _evaluate_listed(
    s, operation_id: int, group: Group, condition, user_ids: list[int], at: EvaluationCheckpoint, actor: Actor
) -> dict[str, Any] | None:
    """One chunk of an evaluation of only the listed users (the ones a change touched, see .pending)."""
    ids = sorted(int(i) for i in user_ids if int(i) > at.after_user_id)[:LISTED_CHUNK]
    if not ids:
        return None
    # The same set-based statements as a full evaluation's chunk, narrowed to the listed users.
    added, removed = apply_rule(s, group, condition, at.after_user_id, ids[-1], actor, only=ids)
    new = EvaluationCheckpoint(
        after_user_id=ids[-1], done=at.done + len(ids), added=at.added + added, removed=at.removed + removed
    )
    save_progress(
        s, operation_id, done=new.done, checkpoint=new.to_json(), result={"added": new.added, "removed": new.removed}
    )
    return new.to_json() if len(ids) == LISTED_CHUNK else None


@dataclass(frozen=True)
class EvaluationReport:
    """How one evaluation ended, in words for a person: which group, what changed or what failed."""

    group_name: str
    added: int
    removed: int
    error: str | None


def evaluation_report(rt: Runtime, operation_id: int) -> EvaluationReport:
    """The outcome of a finished evaluation Operation (its group may have been deleted since)."""
    with rt.db.read() as s:
        op = s.get_one(Operation, operation_id)
        group = s.get(Group, op.params["group_id"])
        name = group.name if group is not None else f"#{op.params['group_id']}"
        result = op.result or {}
        error = (op.errors or [{}])[0].get("message", "") if op.status == "failed" else None
        return EvaluationReport(name, int(result.get("added", 0)), int(result.get("removed", 0)), error)
