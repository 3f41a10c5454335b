"""Courses and enrollments through the admin API and the services."""

from __future__ import annotations

from sqlalchemy import func, select

from provisioning.activity import Actor
from provisioning.models import Enrollment
from provisioning.services.courses import enroll_many
from provisioning.services.users import create_user

ACTOR = Actor("test", "cli")


def make_users(rt, tenant, *emails):
    return {e: create_user(rt, tenant.id, {"email": e}, ACTOR).id for e in emails}


def enrollments(rt, tenant_id):
    with rt.db.read() as s:
        return {
            (e.user_id, e.course_id): (e.status, e.role, e.completed_at)
            for e in s.scalars(select(Enrollment).where(Enrollment.tenant_id == tenant_id))
        }


def test_a_course_is_created_with_a_unique_external_id(client, tenant):
    r = client.post(
        "/api/v1/courses", json={"external_id": "driver-safety", "title": "Driver safety"}, headers=tenant.admin
    )
    assert r.status_code == 201, r.json
    assert r.json["external_id"] == "driver-safety" and r.json["title"] == "Driver safety"
    again = client.post("/api/v1/courses", json={"external_id": "driver-safety"}, headers=tenant.admin)
    assert again.status_code == 409 and "external_id" in again.json["errors"]
    empty = client.post("/api/v1/courses", json={"external_id": ""}, headers=tenant.admin)
    assert empty.status_code == 400 and "external_id" in empty.json["errors"]


def test_the_same_external_id_may_exist_in_another_tenant(client, tenant, other_tenant):
    for t in (tenant, other_tenant):
        assert client.post("/api/v1/courses", json={"external_id": "c1"}, headers=t.admin).status_code == 201


def test_one_enrollment_by_email_is_created_then_updated(rt, client, tenant):
    ids = make_users(rt, tenant, "ann@example.org")
    client.post("/api/v1/courses", json={"external_id": "c1"}, headers=tenant.admin)
    r = client.post(
        "/api/v1/enrollments",
        json={"email": "ANN@example.org", "course_id": "c1", "role": "learner"},
        headers=tenant.admin,
    )
    assert r.status_code == 201, r.json
    assert r.json["user_id"] == ids["ann@example.org"] and r.json["status"] == "enrolled"
    assert r.json["course_id"] == "c1"
    r = client.post(
        "/api/v1/enrollments",
        json={
            "user_id": ids["ann@example.org"],
            "course_id": "c1",
            "status": "completed",
            "completed_at": "2025-03-01T10:00:00Z",
        },
        headers=tenant.admin,
    )
    assert r.status_code == 201, r.json
    assert r.json["status"] == "completed" and r.json["completed_at"].startswith("2025-03-01T10:00:00")
    assert len(enrollments(rt, tenant.id)) == 1


def test_a_list_of_enrollments_is_saved_in_one_go_and_counts_what_changed(rt, client, tenant):
    make_users(rt, tenant, "a@x.org", "b@x.org")
    client.post("/api/v1/courses", json={"external_id": "c1"}, headers=tenant.admin)
    client.post("/api/v1/enrollments", json={"email": "a@x.org", "course_id": "c1"}, headers=tenant.admin)
    body = [
        {"email": "a@x.org", "course_id": "c1", "status": "in_progress"},
        {"email": "b@x.org", "course_id": "c1", "status": "enrolled"},
        {"email": "b@x.org", "course_id": "c1", "status": "dropped"},
    ]
    r = client.post("/api/v1/enrollments", json=body, headers=tenant.admin)
    assert r.status_code == 200, r.json
    assert r.json == {"created": 1, "updated": 1, "users": 2}
    assert sorted(status for status, _, _ in enrollments(rt, tenant.id).values()) == ["dropped", "in_progress"]


def test_a_bad_row_names_its_index_and_field_and_changes_nothing(rt, client, tenant):
    make_users(rt, tenant, "a@x.org")
    client.post("/api/v1/courses", json={"external_id": "c1"}, headers=tenant.admin)
    body = [
        {"email": "a@x.org", "course_id": "c1"},
        {"email": "nobody@x.org", "course_id": "c1"},
        {"email": "a@x.org", "course_id": "missing"},
    ]
    r = client.post("/api/v1/enrollments", json=body, headers=tenant.admin)
    assert r.status_code == 400
    assert set(r.json["errors"]) == {"1.email", "2.course_id"}
    assert "nobody@x.org" in r.json["errors"]["1.email"][0]
    assert enrollments(rt, tenant.id) == {}
    bad = client.post(
        "/api/v1/enrollments", json=[{"email": "a@x.org", "course_id": "c1", "status": "passed"}], headers=tenant.admin
    )
    assert bad.status_code == 400 and "0.status" in bad.json["errors"]
    ancient = client.post(
        "/api/v1/enrollments",
        json=[{"email": "a@x.org", "course_id": "c1", "completed_at": "0001-01-01T00:00:00+14:00"}],
        headers=tenant.admin,
    )
    assert ancient.status_code == 400 and "0.completed_at" in ancient.json["errors"]
    not_json = client.post("/api/v1/enrollments", json="hello", headers=tenant.admin)
    assert not_json.status_code == 400
    nul = client.post("/api/v1/enrollments", json={"email": "a\x00@x.org", "course_id": "c1"}, headers=tenant.admin)
    assert nul.status_code == 400 and "email" in nul.json["errors"]


def test_another_tenants_course_or_user_cannot_be_enrolled(rt, client, tenant, other_tenant):
    theirs = make_users(rt, other_tenant, "them@x.org")
    make_users(rt, tenant, "me@x.org")
    client.post("/api/v1/courses", json={"external_id": "theirs"}, headers=other_tenant.admin)
    client.post("/api/v1/courses", json={"external_id": "mine"}, headers=tenant.admin)
    r = client.post("/api/v1/enrollments", json={"email": "me@x.org", "course_id": "theirs"}, headers=tenant.admin)
    assert r.status_code == 400 and "course_id" in r.json["errors"]
    r = client.post(
        "/api/v1/enrollments", json={"user_id": theirs["them@x.org"], "course_id": "mine"}, headers=tenant.admin
    )
    assert r.status_code == 400 and "user_id" in r.json["errors"]


def test_bulk_enrollment_handles_more_rows_than_one_chunk(rt, client, tenant):
    from provisioning.services.courses import create_course

    course = create_course(rt, tenant.id, "big", None, ACTOR)
    with rt.db.transaction() as s:
        from provisioning.store.users import add_user

        ids = [add_user(s, tenant.id, {"email": f"u{i}@x.org"}, ACTOR).id for i in range(1200)]
    result = enroll_many(rt, tenant.id, [{"user_id": i, "course_id": "big", "status": "completed"} for i in ids], ACTOR)
    assert (result.created, result.updated) == (1200, 0)
    with rt.db.read() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(Enrollment)
                .where(Enrollment.course_id == course.id, Enrollment.status == "completed")
            )
            == 1200
        )
