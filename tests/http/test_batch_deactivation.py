"""Deactivation and deletion as batch actions: what is temporary goes, what is permanent stays."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from provisioning.models import (
    ActivityEvent,
    Certificate,
    Course,
    EmailMessage,
    Enrollment,
    Invitation,
    Membership,
    Notification,
    Task,
    User,
)
from provisioning.services import (
    certificates,
    groups,
    invitations,
    lifecycle,
    tasks,
    tenants,
)
from provisioning.services.memberships import add_members
from tests.support.api import batch
from tests.support.factories import ADMIN, make_user


def _seed_records(rt, tenant_id, user_id):
    """An open and a completed task, a certificate, enrollments in three states, and a group."""
    with rt.db.transaction() as s:
        tasks.add_tasks(s, tenant_id, [user_id], "Open task", date(2027, 1, 31), "admin")
        tasks.add_tasks(s, tenant_id, [user_id], "Done task", None, "admin")
        certificates.assign_certificates(s, tenant_id, [user_id], "First aid", date(2026, 5, 1), "admin")
        courses = [Course(tenant_id=tenant_id, external_id=f"c{i}", title=f"Course {i}") for i in range(3)]
        s.add_all(courses)
        s.flush()
        for course, status in zip(courses, ("enrolled", "in_progress", "completed")):
            s.add(Enrollment(tenant_id=tenant_id, course_id=course.id, user_id=user_id, status=status))
    done = [t for t in tasks.list_tasks(rt, tenant_id, user_id).items if t.title == "Done task"][0]
    tasks.set_task_status(rt, tenant_id, user_id, done.id, "completed", ADMIN)
    group = groups.create_group(rt, tenant_id, {"name": f"Team {user_id}"}, ADMIN)
    add_members(rt, tenant_id, group.id, user_ids=[user_id], actor=ADMIN)


def test_deactivation_keeps_completed_tasks_and_certificates_and_deletes_temporary_data(rt, client, tenant, run_jobs):
    tenants_settings = {"join_url": "https://lms.example.edu/join"}
    with rt.db.transaction() as s:
        from provisioning.models import Tenant

        s.get(Tenant, tenant.id).settings = tenants_settings
    ann = make_user(rt, tenant.id, "ann")
    newbie = make_user(rt, tenant.id, "newbie", status="invited")
    _seed_records(rt, tenant.id, ann.id)
    with rt.db.transaction() as s:
        invitations.send_invitations(s, rt, tenant.id, [newbie.id], ADMIN)
    r = batch(client, tenant, "deactivate", user_ids=[ann.id, newbie.id])
    assert r.status_code == 202
    run_jobs()
    with rt.db.read() as s:
        assert [t.title for t in s.scalars(select(Task).where(Task.user_id == ann.id))] == ["Done task"]
        assert [c.name for c in s.scalars(select(Certificate).where(Certificate.user_id == ann.id))] == ["First aid"]
        assert sorted(s.scalars(select(Enrollment.status).where(Enrollment.user_id == ann.id))) == [
            "completed",
            "in_progress",
        ]
        assert s.scalar(select(Membership.group_id).where(Membership.user_id == ann.id)) is not None
        assert s.scalar(select(Invitation).where(Invitation.user_id == newbie.id)) is None
        mail = s.scalar(select(EmailMessage).where(EmailMessage.user_id == newbie.id))
        assert (mail.status, mail.last_error) == ("cancelled", "Cancelled: the user was deactivated.")
    listing = client.get(f"/api/v1/users/{ann.id}/tasks", headers=tenant.admin).json
    assert [(t["title"], t["status"]) for t in listing["items"]] == [("Done task", "completed")]


def test_scim_and_the_batch_action_share_the_deactivation_service(rt, tenant):
    ann = make_user(rt, tenant.id, "ann")
    _seed_records(rt, tenant.id, ann.id)
    with rt.db.transaction() as s:  # the call SCIM makes for active=false
        assert lifecycle.deactivate_users(s, tenant.id, [ann.id], ADMIN) == [ann.id]
    assert [t.status for t in tasks.list_tasks(rt, tenant.id, ann.id).items] == ["completed"]


def test_a_reactivated_user_finds_their_permanent_records_again(rt, client, tenant, run_jobs):
    ann = make_user(rt, tenant.id, "ann")
    _seed_records(rt, tenant.id, ann.id)
    batch(client, tenant, "deactivate", user_ids=[ann.id])
    run_jobs()
    batch(client, tenant, "reactivate", user_ids=[ann.id])
    run_jobs()
    assert client.get(f"/api/v1/users/{ann.id}/certificates", headers=tenant.admin).json["total"] == 1
    assert client.get(f"/api/v1/users/{ann.id}/tasks?status=completed", headers=tenant.admin).json["total"] == 1


def test_delete_removes_the_user_and_what_they_own_and_anonymises_their_activity(rt, client, tenant, run_jobs):
    ann = make_user(rt, tenant.id, "ann", given_name="Ann")
    bob = make_user(rt, tenant.id, "bob")
    _seed_records(rt, tenant.id, ann.id)
    batch(client, tenant, "notify", user_ids=[ann.id], params={"subject": "Hi", "body": "Welcome"})
    run_jobs()
    r = batch(client, tenant, "delete", user_ids=[ann.id])
    run_jobs()
    with rt.db.read() as s:
        assert s.get(User, ann.id) is None and s.get(User, bob.id) is not None
        for model in (Task, Certificate, Enrollment, Membership, Notification, EmailMessage):
            assert s.scalar(select(model).where(model.user_id == ann.id)) is None, model.__name__
        events = list(
            s.scalars(
                select(ActivityEvent).where(ActivityEvent.object_type == "user", ActivityEvent.object_id == str(ann.id))
            )
        )
    assert {"user.created", "user.notified", "user.deleted"} <= {e.action for e in events}
    assert all("ann" not in str(e.details) for e in events)
    assert all(e.details.get("anonymised") for e in events)
    assert client.get(f"/api/v1/users/{ann.id}/tasks", headers=tenant.admin).status_code == 404
    assert r.status_code == 202


def test_deleting_users_of_another_tenant_is_impossible(rt, client, tenant, other_tenant, run_jobs):
    theirs = make_user(rt, other_tenant.id, "zed")
    batch(client, tenant, "delete", user_ids=[theirs.id])
    run_jobs()
    with rt.db.read() as s:
        assert s.get(User, theirs.id) is not None
    assert tenants.get_tenant(rt, other_tenant.id) is not None


def test_a_scim_active_false_drops_the_same_temporary_data(rt, client, tenant):
    ann = make_user(rt, tenant.id, "ann")
    _seed_records(rt, tenant.id, ann.id)
    r = client.patch(
        f"/scim/v2/Users/{ann.id}",
        headers={**tenant.scim, "Content-Type": "application/scim+json"},
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": False}],
        },
    )
    assert r.status_code == 200, r.json
    assert [t.status for t in tasks.list_tasks(rt, tenant.id, ann.id).items] == ["completed"]
    assert certificates.list_certificates(rt, tenant.id, ann.id).total == 1


def _automatic_members(rt, client, tenant, run_jobs, rule):
    r = client.post(
        "/api/v1/groups", json={"name": "Active people", "kind": "automatic", "rule": rule}, headers=tenant.admin
    )
    assert r.status_code == 201, r.json
    run_jobs()
    return lambda: set(s for s in _members(rt, r.json["id"]))


def _members(rt, group_id):
    with rt.db.read() as s:
        return set(s.scalars(select(Membership.user_id).where(Membership.group_id == group_id)))


def test_automatic_groups_follow_users_deactivated_by_a_batch_action(rt, client, tenant, run_jobs):
    ann, bob = make_user(rt, tenant.id, "ann"), make_user(rt, tenant.id, "bob")
    members = _automatic_members(rt, client, tenant, run_jobs, "active eq true")
    assert members() == {ann.id, bob.id}
    batch(client, tenant, "deactivate", user_ids=[ann.id])
    run_jobs()
    assert members() == {bob.id}
    batch(client, tenant, "reactivate", user_ids=[ann.id])
    run_jobs()
    assert members() == {ann.id, bob.id}


def test_a_batch_too_large_to_follow_inline_re_evaluates_the_rules_once_at_the_end(
    rt, client, tenant, run_jobs, monkeypatch
):
    from provisioning.models import Operation
    from provisioning.rules import definition as rules

    people = [make_user(rt, tenant.id, f"user{i}") for i in range(5)]
    members = _automatic_members(rt, client, tenant, run_jobs, "active eq true")
    rt.settings.batch_chunk_size = 2
    monkeypatch.setattr(rules, "INLINE_USERS", 1)  # chunks of 2 are "too many" to follow inline
    batch(client, tenant, "deactivate", user_ids=[u.id for u in people[:4]])
    run_jobs()
    assert members() == {people[4].id}
    with rt.db.read() as s:
        evaluations = s.scalars(select(Operation.id).where(Operation.type == "rule_evaluation")).all()
    assert len(evaluations) == 2  # the one when the group was created, and one after the batch


def test_a_scim_delete_removes_the_users_records_and_anonymises_their_activity_too(rt, client, tenant):
    ann = make_user(rt, tenant.id, "ann", given_name="Ann")
    _seed_records(rt, tenant.id, ann.id)
    assert client.delete(f"/scim/v2/Users/{ann.id}", headers=tenant.scim).status_code == 204
    with rt.db.read() as s:
        assert s.scalar(select(Certificate).where(Certificate.user_id == ann.id)) is None
        events = list(
            s.scalars(
                select(ActivityEvent).where(ActivityEvent.object_type == "user", ActivityEvent.object_id == str(ann.id))
            )
        )
    assert "user.deleted" in {e.action for e in events} and all("ann" not in str(e.details) for e in events)
