"""The job tests' test-only Operation type and helpers (no tests here).

It registers ``test_rows``, a test-only Operation type whose chunks apply numbered rows
(one ActivityEvent per row, committed with the checkpoint) slowly enough for a test to
cancel, stop or kill the job mid-run.  A subprocess worker imports this module
(``tests.support.jobs``) to know the type too.  Events have no unique constraint, so a row applied twice would show.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from jobs.handlers import register
from provisioning import operations
from provisioning.activity import Actor, record_many
from provisioning.models import ActivityEvent, utcnow
from provisioning.runtime import Runtime

ADMIN = Actor("admin@example.edu", "api")
ROW_APPLIED = "test.row_applied"


def apply_rows_chunk(
    rt: Runtime, operation_id: int, tenant_id: int, params: dict[str, Any], checkpoint: dict[str, Any]
) -> dict[str, Any] | None:
    start = int(checkpoint.get("next", 0))
    rows, chunk = int(params["rows"]), int(params["chunk"])
    if start >= rows:
        return None
    if params.get("fail_at") is not None and start >= int(params["fail_at"]):
        raise RuntimeError("password=hunter2 in a connection string nobody should see")
    time.sleep(float(params.get("delay", 0)))
    end = min(rows, start + chunk)
    with rt.db.transaction() as s:
        record_many(
            s,
            [
                dict(
                    tenant_id=tenant_id,
                    actor="test",
                    channel="job",
                    action=ROW_APPLIED,
                    object_type="operation",
                    object_id=str(operation_id),
                    details={"row": i},
                    created_at=utcnow(),
                )
                for i in range(start, end)
            ],
        )
        operations.save_progress(
            s, operation_id, done=end, total=rows, checkpoint={"next": end}, result={"applied": end}
        )
    return {"next": end}


register("test_rows", apply_rows_chunk)


def start_rows_operation(rt: Runtime, tenant_id: int, **params: Any) -> int:
    """Start a ``test_rows`` Operation the way every service does (enqueued after commit)."""
    with rt.db.transaction() as s:
        op = operations.start_operation(s, rt, tenant_id, "test_rows", params, ADMIN, total=params["rows"])
    return op.id


def applied_rows(rt: Runtime, operation_id: int) -> Counter:
    """How many times each row of a ``test_rows`` Operation was applied."""
    with rt.db.read() as s:
        details = s.scalars(
            select(ActivityEvent.details).where(
                ActivityEvent.action == ROW_APPLIED, ActivityEvent.object_id == str(operation_id)
            )
        )
        return Counter(d["row"] for d in details)


def wait_for(predicate: Callable[[], Any], *, timeout: float = 30, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
