"""Rule-evaluation storms (issue 18, defect 10): a bulk change re-evaluates only the rules that read
what changed, only for the users it touched, and queues at most one pending evaluation per group."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from provisioning import activity
from provisioning.models import Operation
from provisioning.rules import definition
from provisioning.services import groups, memberships
from tests.support.api import batch, commit_and_run, preview
from tests.support.factories import ADMIN, make_users, member_emails

EMAILS = [f"u{i}@example.com" for i in range(12)]


@pytest.fixture
def small_inline(monkeypatch):
    """More than 2 changed users go to background evaluations (INLINE_USERS is 1,000; 12 users here)."""
    monkeypatch.setattr(definition, "INLINE_USERS", 2)


@pytest.fixture
def chunked_imports(rt):
    """Imports apply 3 rows per chunk, so one import makes four rounds of changes."""
    rt.settings.import_chunk_size, rt.settings.import_chunk_seconds = 3, 0


def _evaluations(rt) -> list[Operation]:
    with rt.db.read() as s:
        return list(s.scalars(select(Operation).where(Operation.type == "rule_evaluation").order_by(Operation.id)))


def _automatic(rt, tenant_id, name, rule):
    group = groups.create_group(rt, tenant_id, {"name": name, "kind": "automatic", "rule": rule}, ADMIN)
    return group


def test_an_import_into_a_group_no_rule_reads_queues_no_evaluation(
    client, tenant, rt, run_jobs, small_inline, chunked_imports
):
    make_users(rt, tenant.id, *EMAILS)
    for i in range(5):
        _automatic(rt, tenant.id, f"Auto {i}", 'emails co "@example.com"')
    run_jobs()  # the rules' first evaluations
    before = len(_evaluations(rt))
    manual = groups.create_group(rt, tenant.id, {"name": "Cohort"}, ADMIN)
    body = preview(client, tenant, "email\n" + "\n".join(EMAILS) + "\n", group_id=manual.id)
    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.status == "succeeded" and op.result["applied"] == len(EMAILS)
    assert len(_evaluations(rt)) == before


def test_an_import_into_a_group_a_rule_reads_queues_one_evaluation_of_its_users_per_dependent_group(
    client, tenant, rt, run_jobs, small_inline, chunked_imports
):
    ids = make_users(rt, tenant.id, *EMAILS)
    manual = groups.create_group(rt, tenant.id, {"name": "Cohort"}, ADMIN)
    reader = _automatic(rt, tenant.id, "In cohort", f'groups[value eq "{manual.id}"]')
    chained = _automatic(rt, tenant.id, "Not in 'In cohort'", f'not (groups[value eq "{reader.id}"])')
    unrelated = _automatic(rt, tenant.id, "Everyone", 'emails co "@example.com"')
    run_jobs()
    before = {op.id for op in _evaluations(rt)}
    body = preview(client, tenant, "email\n" + "\n".join(EMAILS[:9]) + "\n", group_id=manual.id)
    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.status == "succeeded"
    new = [e for e in _evaluations(rt) if e.id not in before]
    # Three chunks of changes: one evaluation each for the group reading the cohort and for the group
    # reading that one; none for the rule on emails.
    assert sorted(e.params["group_id"] for e in new) == sorted([reader.id, chained.id])
    assert all(e.status == "succeeded" for e in new), [e.errors for e in new]
    assert all(e.params["user_ids"] == sorted(ids[m] for m in EMAILS[:9]) for e in new)
    assert member_emails(rt, tenant.id, reader.id) == set(EMAILS[:9])
    assert member_emails(rt, tenant.id, chained.id) == set(EMAILS[9:])
    assert member_emails(rt, tenant.id, unrelated.id) == set(EMAILS)


def test_many_quick_changes_coalesce_into_one_pending_evaluation_per_group(rt, tenant, small_inline):
    ids = list(make_users(rt, tenant.id, *EMAILS).values())
    manual = groups.create_group(rt, tenant.id, {"name": "Cohort"}, ADMIN)
    reader = _automatic(rt, tenant.id, "In cohort", f'groups[value eq "{manual.id}"]')
    with rt.db.read() as s:
        (first,) = s.scalars(select(Operation.id).where(Operation.type == "rule_evaluation"))
    # No worker runs here: every change finds the group's evaluation still queued and joins it.
    for start in range(0, len(ids), 3):
        memberships.edit_group(
            rt, tenant.id, manual.id, member_steps=[("add", ids[start : start + 3])], actor=ADMIN, reevaluate=True
        )
    with rt.db.read() as s:
        queued = s.scalar(select(func.count()).where(Operation.type == "rule_evaluation", Operation.status == "queued"))
        op = s.get_one(Operation, first)
    assert queued == 1
    # The group's first (full) evaluation was still queued: the changes joined it, and it stays full.
    assert op.params["group_id"] == reader.id and "user_ids" not in op.params


def test_listed_evaluations_merge_their_users_until_a_worker_starts_one(rt, tenant, run_jobs, small_inline):
    ids = list(make_users(rt, tenant.id, *EMAILS).values())
    manual = groups.create_group(rt, tenant.id, {"name": "Cohort"}, ADMIN)
    reader = _automatic(rt, tenant.id, "In cohort", f'groups[value eq "{manual.id}"]')
    run_jobs()
    done = {op.id for op in _evaluations(rt)}
    for start in range(0, 9, 3):
        memberships.edit_group(
            rt, tenant.id, manual.id, member_steps=[("add", ids[start : start + 3])], actor=ADMIN, reevaluate=True
        )
    (pending,) = [op for op in _evaluations(rt) if op.id not in done]
    assert pending.status == "queued" and pending.params["user_ids"] == sorted(ids[:9])
    # The audit log says how many users the evaluation covers, not which (the list may hold 50,000 ids).
    (requested,) = [
        e
        for e in activity.list_events(rt, tenant.id, action="operation.rule_evaluation.requested").items
        if e.object_id == str(pending.id)
    ]
    assert requested.details["params"]["users"] == 3 and "user_ids" not in requested.details["params"]
    run_jobs()
    assert member_emails(rt, tenant.id, reader.id) == set(EMAILS[:9])
    memberships.edit_group(rt, tenant.id, manual.id, member_steps=[("remove", ids[:3])], actor=ADMIN, reevaluate=True)
    (after,) = [op for op in _evaluations(rt) if op.id not in done and op.id != pending.id]
    assert after.params["user_ids"] == sorted(ids[:3])
    run_jobs()
    assert member_emails(rt, tenant.id, reader.id) == set(EMAILS[3:9])


def test_a_batch_action_adding_users_to_a_group_wakes_only_the_rules_reading_that_group(
    client, tenant, rt, run_jobs, small_inline
):
    ids = list(make_users(rt, tenant.id, *EMAILS).values())
    unread = groups.create_group(rt, tenant.id, {"name": "Unread"}, ADMIN)
    read = groups.create_group(rt, tenant.id, {"name": "Read"}, ADMIN)
    reader = _automatic(rt, tenant.id, "In 'Read'", f'groups[value eq "{read.id}"]')
    _automatic(rt, tenant.id, "Everyone", 'emails co "@example.com"')
    run_jobs()
    before = {op.id for op in _evaluations(rt)}
    for group in (unread, read):
        r = batch(client, tenant, "add_to_groups", user_ids=ids[:6], params={"group_ids": [group.id]})
        assert r.status_code == 202, r.json
        run_jobs()
    new = [e for e in _evaluations(rt) if e.id not in before]
    assert [e.params["group_id"] for e in new] == [reader.id] and new[0].status == "succeeded"
    assert member_emails(rt, tenant.id, reader.id) == set(EMAILS[:6])
