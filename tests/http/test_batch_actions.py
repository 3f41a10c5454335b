"""POST /api/v1/batch-actions end to end: the request, the job run by a real RQ worker, the result."""

from __future__ import annotations

import csv
import io
import threading
import time

import pytest
from sqlalchemy import select

from jobs.runner import execute
from provisioning.errors import NotFound
from provisioning.models import ActivityEvent, ManagerShare, Membership, User
from provisioning.operations import cancel_operation
from provisioning.services import groups, tenants
from tests.support.api import batch
from tests.support.factories import ADMIN, make_user, operation


def _user(rt, user_id):
    with rt.db.read() as s:
        return s.get(User, user_id)


def test_deactivate_answers_202_and_the_job_deactivates_the_selected_users(rt, client, tenant, run_jobs):
    ann, bob, cyd = (make_user(rt, tenant.id, n) for n in ("ann", "bob", "cyd"))
    r = batch(client, tenant, "deactivate", user_ids=[ann.id, bob.id])
    assert r.status_code == 202, r.json
    op_id = r.json["operation_id"]
    assert operation(rt, tenant.id, op_id).type == "batch_action"
    run_jobs()
    op = operation(rt, tenant.id, op_id)
    assert op.status == "succeeded"
    assert op.result["changed"] == 2 and op.result["done_ranges"] == [[ann.id, bob.id]]
    assert (_user(rt, ann.id).status, _user(rt, ann.id).active) == ("deactivated", False)
    assert _user(rt, cyd.id).status == "active"
    events = client.get("/api/v1/activity?action=user.deactivated", headers=tenant.admin)
    if events.status_code == 200:  # the activity API belongs to the foundation; present in this tree
        assert {e["object_id"] for e in events.json["items"]} == {str(ann.id), str(bob.id)}


def test_unknown_action_is_a_400_naming_action(client, tenant):
    r = batch(client, tenant, "explode", user_ids=[1])
    assert r.status_code == 400 and "action" in r.json["errors"]


def test_bad_params_are_a_400_naming_each_param(rt, client, tenant):
    user = make_user(rt, tenant.id, "ann")
    r = batch(client, tenant, "change_role", user_ids=[user.id], params={"role": "emperor"})
    assert r.status_code == 400 and "params.role" in r.json["errors"]
    r = batch(client, tenant, "add_task", user_ids=[user.id], params={"title": "", "due_date": "31/12/2026"})
    assert r.status_code == 400 and {"params.title", "params.due_date"} <= set(r.json["errors"])
    r = batch(client, tenant, "deactivate", user_ids=[user.id], params={"force": True})
    assert r.status_code == 400 and "params.force" in r.json["errors"]
    r = batch(client, tenant, "add_to_groups", user_ids=[user.id], params={"group_ids": [999]})
    assert r.status_code == 400 and "No group with id 999." in r.json["errors"]["params.group_ids"]


def test_the_selection_is_exactly_one_of_user_ids_group_id_or_filter(rt, client, tenant):
    group = groups.create_group(rt, tenant.id, {"name": "Sales"}, ADMIN)
    r = batch(client, tenant, "deactivate", user_ids=[1], group_id=group.id)
    assert r.status_code == 400 and "user_ids" in r.json["errors"]
    r = batch(client, tenant, "deactivate")
    assert r.status_code == 400 and "user_ids" in r.json["errors"]


def test_ids_of_another_tenant_are_reported_as_unknown_and_never_touched(rt, client, tenant, other_tenant, run_jobs):
    mine = make_user(rt, tenant.id, "ann")
    theirs = make_user(rt, other_tenant.id, "zed")
    r = batch(client, tenant, "deactivate", user_ids=[mine.id, theirs.id])
    run_jobs()
    op = operation(rt, tenant.id, r.json["operation_id"])
    assert op.status == "succeeded" and op.result["changed"] == 1 and op.result["failed"] == 1
    assert op.errors == [{"user_id": theirs.id, "message": "No user with this id in the tenant."}]
    assert _user(rt, theirs.id).status == "active"
    with pytest.raises(NotFound):
        operation(rt, other_tenant.id, op.id)


def test_a_group_of_another_tenant_is_a_404(rt, client, tenant, other_tenant):
    theirs = groups.create_group(rt, other_tenant.id, {"name": "Theirs"}, ADMIN)
    assert batch(client, tenant, "deactivate", group_id=theirs.id).status_code == 404


def test_selecting_a_group_acts_on_its_members_at_run_time(rt, client, tenant, run_jobs):
    ann, bob, cyd = (make_user(rt, tenant.id, n) for n in ("ann", "bob", "cyd"))
    sales = groups.create_group(rt, tenant.id, {"name": "Sales"}, ADMIN)
    from provisioning.services.memberships import add_members

    add_members(rt, tenant.id, sales.id, user_ids=[ann.id, bob.id], actor=ADMIN)
    r = batch(client, tenant, "change_language", group_id=sales.id, params={"language": "pt-BR"})
    assert r.status_code == 202
    run_jobs()
    assert [_user(rt, u.id).language for u in (ann, bob, cyd)] == ["pt-BR", "pt-BR", None]


def test_reactivate_change_role_and_groups_actions(rt, client, tenant, run_jobs):
    ann, bob = make_user(rt, tenant.id, "ann"), make_user(rt, tenant.id, "bob")
    a, b = (groups.create_group(rt, tenant.id, {"name": n}, ADMIN) for n in ("A", "B"))
    for action, params in (
        ("deactivate", {}),
        ("reactivate", {}),
        ("change_role", {"role": "manager"}),
        ("add_to_groups", {"group_ids": [a.id, b.id]}),
        ("remove_from_group", {"group_id": a.id}),
    ):
        assert batch(client, tenant, action, user_ids=[ann.id, bob.id], params=params).status_code == 202
        run_jobs()
    for user in (ann, bob):
        assert (_user(rt, user.id).status, _user(rt, user.id).role) == ("active", "manager")
    with rt.db.read() as s:
        assert sorted(s.execute(select(Membership.group_id, Membership.user_id)).all()) == [
            (b.id, ann.id),
            (b.id, bob.id),
        ]


def test_reactivation_beyond_the_seat_limit_fails_per_user(rt, client, make_tenant, run_jobs):
    small = make_tenant("Small", seat_limit=1)
    ann, bob = make_user(rt, small.id, "ann"), None
    batch(client, small, "deactivate", user_ids=[ann.id])
    run_jobs()
    bob = make_user(rt, small.id, "bob")
    r = batch(client, small, "reactivate", user_ids=[ann.id])
    run_jobs()
    op = operation(rt, small.id, r.json["operation_id"])
    assert op.status == "succeeded" and op.result["failed"] == 1
    assert "seat limit" in op.errors[0]["message"] and _user(rt, ann.id).status == "deactivated"
    assert bob is not None


def test_share_gives_a_manager_access_to_the_selected_users(rt, client, tenant, run_jobs):
    boss = make_user(rt, tenant.id, "boss", role="manager")
    ann, bob = make_user(rt, tenant.id, "ann"), make_user(rt, tenant.id, "bob")
    r = batch(client, tenant, "share", user_ids=[ann.id, bob.id, boss.id], params={"manager_id": boss.id})
    run_jobs()
    with rt.db.read() as s:
        shared = sorted(s.scalars(select(ManagerShare.user_id).where(ManagerShare.manager_id == boss.id)))
    assert shared == [ann.id, bob.id]
    assert operation(rt, tenant.id, r.json["operation_id"]).result["already_shared"] == 1
    assert batch(client, tenant, "share", user_ids=[ann.id], params={"manager_id": ann.id}).status_code == 400


def test_export_csv_is_downloadable_once_the_job_succeeded(rt, client, tenant, run_jobs):
    ann = make_user(rt, tenant.id, "ann", given_name="=cmd|' /C calc'!A0", department="Sales")
    bob = make_user(rt, tenant.id, "bob")
    make_user(rt, tenant.id, "cyd")
    r = batch(client, tenant, "export_csv", user_ids=[ann.id, bob.id])
    op_id = r.json["operation_id"]
    assert client.get(f"/api/v1/operations/{op_id}/export.csv", headers=tenant.admin).status_code == 409
    run_jobs()
    r = client.get(f"/api/v1/operations/{op_id}/export.csv", headers=tenant.admin)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [row["username"] for row in rows] == ["ann", "bob"]
    assert rows[0]["department"] == "Sales" and rows[0]["given_name"].startswith("'=")


def test_an_export_of_another_tenant_is_a_404(rt, client, tenant, other_tenant, run_jobs):
    ann = make_user(rt, tenant.id, "ann")
    op_id = batch(client, tenant, "export_csv", user_ids=[ann.id]).json["operation_id"]
    run_jobs()
    assert client.get(f"/api/v1/operations/{op_id}/export.csv", headers=other_tenant.admin).status_code == 404


def test_stop_halts_between_chunks_and_the_result_says_who_was_done(rt, client, tenant):
    rt.settings.batch_chunk_size = 2
    people = [make_user(rt, tenant.id, f"user{i}") for i in range(60)]
    r = batch(client, tenant, "change_role", user_ids=[u.id for u in people], params={"role": "admin"})
    op_id = r.json["operation_id"]
    # The real runner on a thread; Stop is pressed as soon as the first chunk is recorded.
    worker = threading.Thread(target=execute, args=(rt, op_id))
    worker.start()
    deadline = time.monotonic() + 10
    while operation(rt, tenant.id, op_id).progress_done < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    cancel_operation(rt, tenant.id, op_id, ADMIN)  # what POST /api/v1/operations/{id}/cancel calls
    worker.join(10)
    op = operation(rt, tenant.id, op_id)
    assert op.status == "cancelled" and op.result["cancelled"] is True
    admins = [u.id for u in people if _user(rt, u.id).role == "admin"]
    assert 2 <= len(admins) < 60 and len(admins) % 2 == 0
    assert op.result["done_ranges"] == [[admins[0], admins[-1]]] and op.result["processed"] == len(admins)
    assert op.result["done_through_user_id"] == admins[-1]


def test_each_action_writes_activity_events_naming_the_operation(rt, client, tenant, run_jobs):
    ann = make_user(rt, tenant.id, "ann")
    op_id = batch(client, tenant, "add_task", user_ids=[ann.id], params={"title": "Read the handbook"}).json[
        "operation_id"
    ]
    run_jobs()
    with rt.db.read() as s:
        event = s.scalar(select(ActivityEvent).where(ActivityEvent.action == "user.task_added"))
    assert event.object_id == str(ann.id) and event.details["operation_id"] == op_id and "test admin" in event.actor


def test_password_reset_needs_the_tenants_reset_page(rt, client, tenant):
    ann = make_user(rt, tenant.id, "ann")
    r = batch(client, tenant, "password_reset", user_ids=[ann.id])
    assert r.status_code == 400 and "tenant.settings.password_reset_url" in r.json["errors"]
    assert tenants.get_tenant(rt, tenant.id).settings == {}


def test_a_scim_filter_selects_the_users_when_the_job_runs(rt, client, tenant, other_tenant, run_jobs):
    ann = make_user(rt, tenant.id, "ann", department="Sales")
    bob = make_user(rt, tenant.id, "bob", department="Support")
    zed = make_user(rt, other_tenant.id, "zed", department="Sales")
    r = batch(client, tenant, "change_role", filter='department eq "Sales"', params={"role": "manager"})
    assert r.status_code == 202, r.json
    run_jobs()
    assert [_user(rt, u.id).role for u in (ann, bob, zed)] == ["manager", "learner", "learner"]


def test_a_bad_filter_is_a_400_with_its_position(client, tenant):
    r = batch(client, tenant, "deactivate", filter="department eq")
    assert r.status_code == 400 and "position" in r.json["errors"]["filter"][0]


def test_params_naming_another_tenants_group_or_manager_are_refused(rt, client, tenant, other_tenant):
    ann = make_user(rt, tenant.id, "ann")
    their_group = groups.create_group(rt, other_tenant.id, {"name": "Theirs"}, ADMIN)
    their_boss = make_user(rt, other_tenant.id, "boss", role="manager")
    r = batch(client, tenant, "add_to_groups", user_ids=[ann.id], params={"group_ids": [their_group.id]})
    assert r.status_code == 400 and r.json["errors"]["params.group_ids"] == [f"No group with id {their_group.id}."]
    r = batch(client, tenant, "share", user_ids=[ann.id], params={"manager_id": their_boss.id})
    assert r.status_code == 400 and r.json["errors"]["params.manager_id"] == [f"No user with id {their_boss.id}."]
    with rt.db.read() as s:
        assert s.scalar(select(Membership.user_id).where(Membership.group_id == their_group.id)) is None
