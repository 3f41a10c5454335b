"""A user's tasks, certificates and notifications through the admin API."""

from __future__ import annotations

from tests.support.api import batch
from tests.support.factories import make_user


def test_tasks_added_in_bulk_can_be_completed_and_reopened(rt, client, tenant, run_jobs):
    ann, bob = make_user(rt, tenant.id, "ann"), make_user(rt, tenant.id, "bob", status="deactivated")
    r = batch(
        client,
        tenant,
        "add_task",
        user_ids=[ann.id, bob.id],
        params={"title": "Complete the safety course", "due_date": "2027-02-01"},
    )
    run_jobs()
    tasks = client.get(f"/api/v1/users/{ann.id}/tasks", headers=tenant.admin).json
    assert tasks["total"] == 1
    task = tasks["items"][0]
    assert (task["title"], task["due_date"], task["status"]) == ("Complete the safety course", "2027-02-01", "open")
    assert client.get(f"/api/v1/users/{bob.id}/tasks", headers=tenant.admin).json["total"] == 0
    done = client.patch(
        f"/api/v1/users/{ann.id}/tasks/{task['id']}", json={"status": "completed"}, headers=tenant.admin
    )
    assert done.status_code == 200 and done.json["status"] == "completed" and done.json["completed_at"]
    reopened = client.patch(f"/api/v1/users/{ann.id}/tasks/{task['id']}", json={"status": "open"}, headers=tenant.admin)
    assert reopened.json["status"] == "open" and reopened.json["completed_at"] is None
    assert r.status_code == 202


def test_a_bad_task_status_is_a_400_naming_status(rt, client, tenant):
    ann = make_user(rt, tenant.id, "ann")
    r = client.patch(f"/api/v1/users/{ann.id}/tasks/1", json={"status": "done"}, headers=tenant.admin)
    assert r.status_code == 400 and "status" in r.json["errors"]


def test_tasks_of_another_tenants_user_are_a_404(rt, client, tenant, other_tenant, run_jobs):
    theirs = make_user(rt, other_tenant.id, "zed")
    batch(client, other_tenant, "add_task", user_ids=[theirs.id], params={"title": "Theirs"})
    run_jobs()
    task_id = client.get(f"/api/v1/users/{theirs.id}/tasks", headers=other_tenant.admin).json["items"][0]["id"]
    assert client.get(f"/api/v1/users/{theirs.id}/tasks", headers=tenant.admin).status_code == 404
    assert (
        client.patch(
            f"/api/v1/users/{theirs.id}/tasks/{task_id}", json={"status": "completed"}, headers=tenant.admin
        ).status_code
        == 404
    )
    mine = make_user(rt, tenant.id, "ann")
    assert (
        client.patch(
            f"/api/v1/users/{mine.id}/tasks/{task_id}", json={"status": "completed"}, headers=tenant.admin
        ).status_code
        == 404
    )
    assert client.get(f"/api/v1/users/{theirs.id}/certificates", headers=tenant.admin).status_code == 404
    assert client.get(f"/api/v1/users/{theirs.id}/notifications", headers=tenant.admin).status_code == 404


def test_assigned_certificates_are_listed_for_each_user(rt, client, tenant, run_jobs):
    ann, bob = make_user(rt, tenant.id, "ann"), make_user(rt, tenant.id, "bob")
    batch(
        client,
        tenant,
        "assign_certificate",
        user_ids=[ann.id, bob.id],
        params={"name": "Fire warden", "issued_on": "2026-11-01"},
    )
    run_jobs()
    certs = client.get(f"/api/v1/users/{bob.id}/certificates", headers=tenant.admin).json["items"]
    assert [(c["name"], c["issued_on"]) for c in certs] == [("Fire warden", "2026-11-01")]
    r = batch(client, tenant, "assign_certificate", user_ids=[ann.id], params={"name": "X"})
    assert r.status_code == 400 and "params.issued_on" in r.json["errors"]
