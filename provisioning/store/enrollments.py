"""The completion time of an enrollment saved as ``completed``: one rule for every way one is saved.

An enrollment sent as ``completed`` without ``completed_at`` takes the time of the change, so that
date rules (``completedAt gt ...``) see it.  Re-sending an enrollment that was completed already
keeps the time it was completed; a ``completed_at`` that is given always wins.  The API
(``POST /enrollments``) and the enrollments import both save through an ``INSERT ... ON CONFLICT
DO UPDATE``: :func:`inserted_completed_at` is the inserted value, :func:`updated_completed_at` the
value on conflict.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, literal, or_

from provisioning.models import Enrollment

COMPLETED = "completed"


def inserted_completed_at(status: Any, completed_at: Any, now: datetime) -> Any:
    """The inserted ``completed_at``: the one given, else ``now`` when the status is completed."""
    when = literal(now, Enrollment.__table__.c.completed_at.type)
    return case((and_(completed_at.is_(None), status == COMPLETED), when), else_=completed_at)


def updated_completed_at(excluded: Any, now: datetime) -> Any:
    """``completed_at`` on conflict: an enrollment completed already keeps its completion time
    unless a new one is given (``now`` in ``excluded`` marks "not given", as inserted above)."""
    table = Enrollment.__table__.c
    when = literal(now, table.completed_at.type)
    kept = and_(
        excluded.status == COMPLETED,
        excluded.completed_at == when,
        table.status == COMPLETED,
        table.completed_at.is_not(None),
    )
    return case((kept, table.completed_at), else_=excluded.completed_at)


def unchanged_completed_at(stored: Any, status: Any, given: Any) -> Any:
    """Whether saving ``status`` with ``given`` (maybe NULL) leaves a stored ``completed_at`` as it is."""
    return or_(stored.is_not_distinct_from(given), and_(given.is_(None), status == COMPLETED, stored.is_not(None)))
