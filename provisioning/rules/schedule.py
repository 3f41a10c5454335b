"""The periodic full re-evaluation of automatic groups, run by the workers (RULES_EVALUATE_INTERVAL).

Incremental re-evaluation follows every change to a user; this catches whatever was missed.
Time is cut into periods of RULES_EVALUATE_INTERVAL seconds counted from the Unix epoch
(86,400: one per UTC day).  Every worker looks now and then; the first to see a period
without its evaluation starts one rule_evaluation Operation per automatic group, each
carrying the period in ``params["schedule_slot"]``.  With many workers exactly one does it:
the check and the Operations are one transaction, serialised by a PostgreSQL advisory lock
(another worker holding it skips this look), so a period's Operations exist once or not at all.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import or_, select, text

from provisioning.activity import Actor
from provisioning.models import Group, Operation
from provisioning.rules.definition import start_all
from provisioning.runtime import Runtime
from provisioning.sql import json_text

log = logging.getLogger(__name__)

SCHEDULE_ACTOR = Actor("schedule", "job")
LOCK_KEY = 0x72756C6573  # "rules": this schedule's pg_advisory_xact_lock key


def current_slot(interval: int, now: datetime | None = None) -> int:
    """The number of the period ``now`` falls in."""
    moment = now or datetime.now(UTC)
    return int(moment.timestamp() // interval)


def start_due_evaluations(rt: Runtime, now: datetime | None = None) -> list[int] | None:
    """Start this period's full evaluation unless it was started already; returns the new
    Operation ids, [] when there was nothing to do, None when the schedule is off or another
    worker is looking right now."""
    interval = rt.settings.rules_evaluate_interval
    if interval <= 0:
        return None
    slot = current_slot(interval, now)
    slot_start = datetime.fromtimestamp(slot * interval, UTC)
    with rt.db.transaction() as s:
        if s.get_bind().dialect.name == "postgresql":
            if not s.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": LOCK_KEY}):
                return None
        started = s.scalar(
            select(Operation.id)
            .where(
                Operation.type == "rule_evaluation",
                # A queued evaluation of an earlier period joined by this one keeps its created_at.
                or_(Operation.created_at >= slot_start, Operation.status == "queued"),
                json_text(Operation.params, "schedule_slot") == str(slot),
            )
            .limit(1)
        )
        if started is not None:
            return []
        if s.scalar(select(Group.id).where(Group.kind == "automatic").limit(1)) is None:
            return []
        ids = start_all(s, rt, SCHEDULE_ACTOR, schedule_slot=slot)
    log.info("scheduled full evaluation of automatic groups (period %s): operations %s", slot, ids)
    return ids
