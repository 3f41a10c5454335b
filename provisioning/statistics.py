"""Fresh planner statistics after bulk work (issue 18, defect 11).

Right after a bulk load PostgreSQL's statistics still describe the tables as they were (or say
nothing at all, when autovacuum is off or has not come round yet): a 50,000-member group looks
like one row, and a nested loop planned on that estimate ran a member export for 12 minutes where
0.98 s sufficed after ``ANALYZE``.  So a bulk job analyses the tables it wrote when it ends: only
those tables (``ANALYZE t1, t2``, never the whole database), only on PostgreSQL, and only when it
changed enough rows for the statistics to matter.
"""

from __future__ import annotations

import logging

from sqlalchemy import text

from provisioning.runtime import Runtime

log = logging.getLogger(__name__)

# The tables each bulk Operation type writes (activity_events is written by all of them, but only
# appended to and never joined in a hot query, so its statistics are left to autovacuum).
TOUCHED: dict[str, tuple[str, ...]] = {
    "import": ("users", "memberships", "enrollments", "groups"),
    "rule_evaluation": ("memberships",),
    "batch_action": ("users", "memberships"),
    "roster_sync": ("users", "memberships", "enrollments", "courses"),
    "members_copy": ("memberships",),
}
MIN_ROWS = 1000  # a job that handled fewer rows leaves the statistics to autovacuum


def analyse_after(rt: Runtime, operation_type: str, rows: int) -> tuple[str, ...]:
    """ANALYZE the tables an Operation of ``operation_type`` writes, after it handled ``rows`` rows.

    Returns the tables analysed (none on SQLite, for other types, or for small jobs).  A failure is
    logged, not raised: the job's work is done and committed either way.
    """
    tables = TOUCHED.get(operation_type, ())
    if not tables or rows < MIN_ROWS or rt.db.dialect != "postgresql":
        return ()
    try:
        with rt.db.transaction() as s:
            s.execute(text(f"ANALYZE {', '.join(tables)}"))
    except Exception as exc:  # noqa: BLE001 - statistics are an optimisation, never a job failure
        log.warning("ANALYZE %s after a %s failed (%s)", ", ".join(tables), operation_type, type(exc).__name__)
        return ()
    log.info("analysed %s after a %s of %d rows", ", ".join(tables), operation_type, rows)
    return tables
