"""The workers' schedule for the periodic full re-evaluation of automatic groups (RULES_EVALUATE_INTERVAL)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from provisioning.activity import Actor
from provisioning.models import Membership, Operation
from provisioning.rules.schedule import current_slot, start_due_evaluations
from provisioning.store.groups import add_group
from provisioning.store.users import add_user
from tests.support.environment import (
    REPO_ROOT,
    TEST_REDIS_URL,
    on_postgres,
    on_real_redis,
)
from tests.support.jobs import wait_for

ACTOR = Actor("test", "cli")
ROOT = REPO_ROOT


def _automatic_groups(rt, tenant_id, count=2):
    with rt.db.transaction() as s:
        add_user(s, tenant_id, {"username": "ann", "email": "ann@partner.com"}, ACTOR)
        return [
            add_group(
                s, tenant_id, {"name": f"Auto {i}", "kind": "automatic", "rule": 'emails co "@partner.com"'}, ACTOR
            ).id
            for i in range(count)
        ]


def _scheduled(rt):
    with rt.db.read() as s:
        return [
            (op.params.get("schedule_slot"), op.params["group_id"], op.status)
            for op in s.scalars(select(Operation).where(Operation.type == "rule_evaluation"))
            if op.params.get("schedule_slot") is not None
        ]


def test_each_period_starts_one_evaluation_per_automatic_group_and_only_once(rt, tenant):
    rt.settings.rules_evaluate_interval = 3600
    groups = _automatic_groups(rt, tenant.id)
    now = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    first = start_due_evaluations(rt, now)
    assert len(first) == 2
    assert start_due_evaluations(rt, now + timedelta(minutes=59)) == []  # same period: nothing new
    # The next period: the first period's evaluations are still queued (no worker here), so the next
    # period's join them (at most one pending evaluation per group, provisioning.rules.pending).
    assert sorted(start_due_evaluations(rt, now + timedelta(hours=1)) or []) == sorted(first)
    assert start_due_evaluations(rt, now + timedelta(hours=1, minutes=5)) == []
    slots = Counter(slot for slot, _, _ in _scheduled(rt))
    assert slots == {current_slot(3600, now) + 1: 2}
    assert {g for _, g, _ in _scheduled(rt)} == set(groups)


def test_no_schedule_when_the_interval_is_zero(rt, tenant):
    rt.settings.rules_evaluate_interval = 0
    _automatic_groups(rt, tenant.id)
    assert start_due_evaluations(rt) is None and _scheduled(rt) == []


@on_postgres
@on_real_redis
def test_two_real_workers_run_the_schedule_once_per_period_and_the_evaluations_succeed(rt, tenant, tmp_path):
    groups = _automatic_groups(rt, tenant.id)
    env = {
        **os.environ,
        "DATABASE_URL": rt.settings.database_url,
        "REDIS_URL": TEST_REDIS_URL,
        "SECRET_KEY": rt.settings.secret_key,
        "QUEUE_NAME": rt.settings.queue_name,
        "JOBS_SWEEP_INTERVAL": "0",
        "RULES_EVALUATE_INTERVAL": "2",
    }
    code = "from jobs.worker import main; raise SystemExit(main([]))"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            stdout=open(tmp_path / f"w{i}.log", "w"),
            stderr=subprocess.STDOUT,
        )
        for i in range(2)
    ]
    try:
        wait_for(
            lambda: len({slot for slot, _, _ in _scheduled(rt)}) >= 3,
            timeout=60,
            what="three periods of scheduled evaluations",
        )
        time.sleep(0.5)
    finally:
        for proc in workers:
            proc.terminate()
        for proc in workers:
            proc.wait(timeout=20)
    scheduled = _scheduled(rt)
    per_slot = Counter(slot for slot, _, _ in scheduled)
    # Two workers looked every half second; each period still has one evaluation per group, not two.
    assert set(per_slot.values()) == {len(groups)}
    assert Counter((slot, group) for slot, group, _ in scheduled).most_common(1)[0][1] == 1
    with rt.db.read() as s:
        finished = [
            op.status
            for op in s.scalars(select(Operation).where(Operation.type == "rule_evaluation"))
            if op.params.get("schedule_slot") is not None and op.status != "queued"
        ]
        assert finished and set(finished) <= {"succeeded", "running"}
        assert set(s.scalars(select(Membership.group_id))) == set(groups)
