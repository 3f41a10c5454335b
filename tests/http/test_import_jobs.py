"""The import job: progress, Stop between chunks, and exactly-once application after a crash."""

import threading
import time

from jobs.handlers import HANDLERS
from provisioning import activity, operations
from provisioning.services import groups
from tests.support.api import commit, preview, report
from tests.support.factories import ADMIN, make_users, member_emails

USERS = [f"user{i}@example.com" for i in range(10)]


def _group_file(n_groups: int) -> str:
    """A group-based file: n groups, each with all ten users (10 * n membership entries)."""
    lines = ["Groupname," + ",".join(["Email"] * len(USERS))]
    lines += [f"Group {g:04d}," + ",".join(USERS) for g in range(n_groups)]
    return "\n".join(lines) + "\n"


def _memberships(rt, tenant_id) -> int:
    return sum(g.member_count for g in groups.list_groups(rt, tenant_id, per_page=500).items)


def test_progress_counts_every_staged_entry(client, tenant, rt, run_jobs):
    make_users(rt, tenant.id, *USERS)
    rt.settings.import_chunk_size, rt.settings.import_chunk_seconds = 7, 0  # fixed chunks
    body = preview(client, tenant, _group_file(5))
    op_id = commit(client, tenant, body["id"])
    assert operations.get_operation(rt, tenant.id, op_id).progress_total == 50
    run_jobs()
    op = operations.get_operation(rt, tenant.id, op_id)
    assert op.status == "succeeded" and op.progress_done == 50 and op.result["applied"] == 50
    assert op.result["rows_done"] == op.result["rows_total"] == 50


def test_stop_halts_the_import_between_chunks_and_the_result_says_what_was_applied(client, tenant, rt, run_jobs):
    make_users(rt, tenant.id, *USERS)
    rt.settings.import_chunk_size, rt.settings.import_chunk_seconds = 5, 0  # fixed chunks
    body = preview(client, tenant, _group_file(200))
    op_id = commit(client, tenant, body["id"])

    def press_stop():  # the admin's Stop button, once the job is under way
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if operations.get_operation(rt, tenant.id, op_id).progress_done > 0:
                operations.cancel_operation(rt, tenant.id, op_id, ADMIN)
                return
            time.sleep(0.005)

    stopper = threading.Thread(target=press_stop)
    stopper.start()
    run_jobs()  # RQ's worker must run in the main thread (signals); Stop comes from the other one
    stopper.join()
    op = operations.get_operation(rt, tenant.id, op_id)
    assert op.status == "cancelled" and op.result["cancelled"] is True
    applied = op.result["applied"]
    assert 0 < applied < 2000
    assert _memberships(rt, tenant.id) == applied
    statuses = [r[1] for r in report(client, tenant, body["id"])]
    assert statuses.count("applied") == applied and statuses.count("skipped") == 2000 - applied
    assert client.get(f"/api/v1/imports/{body['id']}", headers=tenant.admin).json["status"] == "cancelled"


def test_a_worker_killed_mid_import_resumes_and_applies_each_row_exactly_once(client, tenant, rt, run_jobs):
    make_users(rt, tenant.id, *USERS)
    rt.settings.import_chunk_size, rt.settings.import_chunk_seconds = 4, 0  # fixed chunks
    body = preview(client, tenant, _group_file(6), mode="replace")
    op_id = commit(client, tenant, body["id"])
    # A first worker claims the job, commits three chunks, then dies without finishing.
    claimed = operations.claim(rt, op_id, "worker-that-dies")
    checkpoint = dict(claimed.checkpoint or {})
    for _ in range(3):
        checkpoint = HANDLERS["import"](rt, op_id, tenant.id, claimed.params, checkpoint)
    partial = _memberships(rt, tenant.id)
    assert 0 < partial < 60
    # Its heartbeat goes stale; the queued RQ job (or the sweep) picks the operation up again.
    rt.settings.operation_stale_seconds = 0
    time.sleep(0.01)
    run_jobs()
    op = operations.get_operation(rt, tenant.id, op_id)
    assert op.status == "succeeded" and op.attempts == 2
    assert op.result["applied"] == 60 and op.result["skipped"] == 0 and op.result["errors"] == 0
    assert _memberships(rt, tenant.id) == 60
    added = activity.list_events(rt, tenant.id, action="group.member_added", per_page=500)
    assert added.total == 60  # one event per membership: no chunk ran twice
    assert len({(e.object_id, e.details["user_id"]) for e in added.items}) == 60
    assert [r[1] for r in report(client, tenant, body["id"])] == ["applied"] * 60
    group = next(g for g in groups.list_groups(rt, tenant.id).items if g.name == "Group 0003")
    assert member_emails(rt, tenant.id, group.id) == set(USERS)


def test_chunks_grow_while_they_finish_well_within_the_target_time(client, tenant, rt):
    make_users(rt, tenant.id, *USERS)
    rt.settings.import_chunk_size, rt.settings.import_chunk_seconds = 4, 60  # every chunk is quick
    body = preview(client, tenant, _group_file(10))
    op_id = commit(client, tenant, body["id"])
    claimed = operations.claim(rt, op_id, "worker")
    checkpoint, sizes = dict(claimed.checkpoint or {}), []
    while checkpoint is not None:
        checkpoint = HANDLERS["import"](rt, op_id, tenant.id, claimed.params, checkpoint)
        if checkpoint and checkpoint["phase"] == "rows" and checkpoint["done"]:
            sizes.append(checkpoint["done"] - sum(sizes))
    assert sizes == [4, 8, 16, 32, 40]  # doubling, the last chunk takes what is left of the 100 entries
    assert _memberships(rt, tenant.id) == 100


def test_chunks_stay_at_the_configured_size_when_they_are_slow(client, tenant, rt):
    make_users(rt, tenant.id, *USERS)
    rt.settings.import_chunk_size, rt.settings.import_chunk_seconds = 4, 1e-9  # every chunk is too slow
    body = preview(client, tenant, _group_file(2))
    op_id = commit(client, tenant, body["id"])
    claimed = operations.claim(rt, op_id, "worker")
    checkpoint = dict(claimed.checkpoint or {})
    done = []
    while checkpoint is not None:
        checkpoint = HANDLERS["import"](rt, op_id, tenant.id, claimed.params, checkpoint)
        if checkpoint and checkpoint["phase"] == "rows" and checkpoint["done"]:
            done.append(checkpoint["done"])
    assert done == [4, 8, 12, 16, 20]
