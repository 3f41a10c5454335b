"""Roster sync over NRPS against lti1p3platform: launch -> sync job -> roster group and enrollments."""

from __future__ import annotations

from sqlalchemy import select

from provisioning.activity import Actor
from provisioning.models import (
    Enrollment,
    Group,
    LtiContext,
    Membership,
    Operation,
    User,
)
from provisioning.services import tenants, users
from tests.support.lti_platform import (
    LEARNER,
    TA,
    launch,
    register_platform,
)


def member(n: int, status: str = "Active", roles=(LEARNER,), email: bool = True) -> dict:
    m = {
        "user_id": f"m-{n}",
        "status": status,
        "roles": list(roles),
        "name": f"Member {n}",
        "given_name": "Member",
        "family_name": str(n),
    }
    if email:
        m["email"] = f"member{n}@example.edu"
    return m


def roster(rt, tenant_id: int) -> dict[str, str]:
    """email -> enrollment status of the roster group's members."""
    with rt.db.read() as s:
        group_id = s.scalar(select(LtiContext.roster_group_id))
        members = set(
            s.scalars(
                select(User.username)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.group_id == group_id)
            )
        )
    return members


def enrollment_of(rt, username: str) -> tuple[str, str]:
    with rt.db.read() as s:
        row = s.execute(
            select(Enrollment.role, Enrollment.status)
            .join(User, User.id == Enrollment.user_id)
            .where(User.username == username)
        ).one()
    return tuple(row)


def test_an_instructor_launch_syncs_the_roster_through_every_page(rt, client, tenant, platform, run_jobs):
    platform.members = [member(i) for i in range(1, 8)] + [member(8, roles=(TA,))]
    register_platform(rt, tenant.id, platform)
    resp = launch(client, platform, sub="m-1", email="member1@example.edu", roles=[LEARNER])
    assert 'id="roster-sync"' in resp.get_data(as_text=True)
    run_jobs()
    with rt.db.read() as s:
        op = s.scalar(select(Operation).where(Operation.type == "roster_sync"))
        group = s.scalar(select(Group).where(Group.kind == "roster"))
    assert op.status == "succeeded", op.errors
    assert op.result["members_read"] == 8 and op.result["users_created"] == 7
    assert group.source == "lti" and group.name == "Roster: Course One"
    # The TA is staff: enrolled (which lets them manage the course), not a member of the learner roster.
    assert roster(rt, tenant.id) == {f"member{i}@example.edu" for i in range(1, 8)}
    assert enrollment_of(rt, "member8@example.edu") == ("TeachingAssistant", "enrolled")
    assert platform.member_requests == 3  # 8 members in pages of 3
    assert platform.token_requests == 1  # one access token for all pages


def test_next_links_work_quoted_or_not_and_in_a_lower_case_header(rt, client, tenant, platform, run_jobs):
    platform.members = [member(i) for i in range(1, 6)]
    register_platform(rt, tenant.id, platform)
    launch(client, platform, sub="m-1", email="member1@example.edu")
    run_jobs()
    for style in ("quoted", "lower-header"):
        platform.link_style = style
        op = _sync_now(rt, client, tenant, run_jobs)
        assert op.status == "succeeded", op.errors
        assert op.result["members_read"] == 5
    assert platform.token_requests == 1  # the access token is cached per (issuer, client_id, scopes)


def _sync_now(rt, client, tenant, run_jobs) -> Operation:
    resp = client.post("/api/v1/courses/course-101/roster-sync", headers=tenant.admin)
    assert resp.status_code == 202, resp.get_json()
    with rt.db.transaction() as s:  # a differences link from the last run would make this a partial sync
        for ctx in s.scalars(select(LtiContext)):
            ctx.differences_url = None
    run_jobs()
    with rt.db.read() as s:
        return s.get(Operation, resp.get_json()["operation_id"])


def test_a_member_already_in_the_tenant_is_matched_by_email_not_duplicated(rt, client, tenant, platform, run_jobs):
    known = users.create_user(rt, tenant.id, {"email": "Member2@Example.edu", "username": "kim"}, Actor("t", "api"))
    platform.members = [member(1), member(2)]
    register_platform(rt, tenant.id, platform)
    launch(client, platform, sub="m-1", email="member1@example.edu")
    run_jobs()
    assert roster(rt, tenant.id) == {"member1@example.edu", "kim"}
    with rt.db.read() as s:
        assert s.scalar(select(Enrollment.user_id).where(Enrollment.user_id == known.id)) == known.id


def test_inactive_and_deleted_members_are_not_in_the_roster_group(rt, client, tenant, platform, run_jobs):
    platform.members = [member(1), member(2, status="Inactive"), member(3, status="Deleted"), member(4)]
    register_platform(rt, tenant.id, platform)
    launch(client, platform, sub="m-1", email="member1@example.edu")
    run_jobs()
    assert roster(rt, tenant.id) == {"member1@example.edu", "member4@example.edu"}
    with rt.db.read() as s:  # nobody is created for a member who is not active
        assert s.scalar(select(User.id).where(User.email == "member2@example.edu")) is None


def test_the_next_sync_uses_the_differences_link_and_removes_who_left(rt, client, tenant, platform, run_jobs):
    platform.members = [member(1), member(2), member(3)]
    register_platform(rt, tenant.id, platform)
    launch(client, platform, sub="m-1", email="member1@example.edu")
    run_jobs()
    platform.differences = [member(2, status="Deleted"), member(3, status="Inactive"), member(5)]
    resp = client.post("/api/v1/courses/course-101/roster-sync", headers=tenant.admin)
    run_jobs()
    with rt.db.read() as s:
        op = s.get(Operation, resp.get_json()["operation_id"])
    assert op.status == "succeeded" and op.result["mode"] == "diff" and op.result["removed"] == 2
    assert roster(rt, tenant.id) == {"member1@example.edu", "member5@example.edu"}
    assert enrollment_of(rt, "member3@example.edu") == ("Learner", "dropped")


def test_a_full_sync_removes_members_the_platform_no_longer_lists(rt, client, tenant, platform, run_jobs):
    platform.members = [member(i) for i in range(1, 6)]
    register_platform(rt, tenant.id, platform)
    launch(client, platform, sub="m-1", email="member1@example.edu")
    run_jobs()
    platform.members = [member(1), member(3)]
    op = _sync_now(rt, client, tenant, run_jobs)
    assert op.result["removed"] == 3
    assert roster(rt, tenant.id) == {"member1@example.edu", "member3@example.edu"}
    assert enrollment_of(rt, "member5@example.edu")[1] == "dropped"


def test_a_launch_does_not_resync_a_fresh_roster(rt, client, tenant, platform, run_jobs):
    platform.members = [member(1)]
    register_platform(rt, tenant.id, platform)
    launch(client, platform, sub="m-1", email="member1@example.edu")
    run_jobs()
    resp = launch(client, platform, sub="m-1", email="member1@example.edu")
    assert 'id="roster-sync"' not in resp.get_data(as_text=True)
    with rt.db.read() as s:
        assert len(s.scalars(select(Operation.id).where(Operation.type == "roster_sync")).all()) == 1


def test_a_launch_resyncs_when_the_roster_is_older_than_the_tenant_setting(rt, client, platform, run_jobs):
    tenant = tenants.create_tenant(rt, "Eager", settings={"lti": {"roster_sync_max_age_minutes": 0}})
    platform.members = [member(1)]
    register_platform(rt, tenant.id, platform)
    launch(client, platform, sub="m-1", email="member1@example.edu")
    run_jobs()
    assert 'id="roster-sync"' in launch(client, platform, sub="m-1", email="member1@example.edu").get_data(as_text=True)


def test_a_launch_without_nrps_starts_no_sync(rt, client, tenant, platform):
    register_platform(rt, tenant.id, platform)
    resp = launch(client, platform, nrps=False)
    assert resp.status_code == 200 and 'id="roster-sync"' not in resp.get_data(as_text=True)


def test_roster_sync_of_an_unknown_course_is_a_404(client, tenant):
    resp = client.post("/api/v1/courses/nope/roster-sync", headers=tenant.admin)
    assert resp.status_code == 404 and "nope" in resp.get_json()["message"]


def test_roster_sync_of_another_tenants_course_is_a_404(rt, client, tenant, other_tenant, platform):
    register_platform(rt, tenant.id, platform)
    launch(client, platform)
    resp = client.post("/api/v1/courses/course-101/roster-sync", headers=other_tenant.admin)
    assert resp.status_code == 404


def test_roster_sync_needs_an_admin_token(client):
    assert client.post("/api/v1/courses/course-101/roster-sync").status_code == 401


def test_a_second_request_while_a_sync_is_queued_returns_the_same_operation(rt, client, tenant, platform):
    register_platform(rt, tenant.id, platform)
    launch(client, platform)
    first = client.post("/api/v1/courses/course-101/roster-sync", headers=tenant.admin).get_json()
    second = client.post("/api/v1/courses/course-101/roster-sync", headers=tenant.admin).get_json()
    assert first["operation_id"] == second["operation_id"]


def test_a_sync_that_would_exceed_the_seat_limit_fails_visibly(rt, client, platform, run_jobs):
    tenant = tenants.create_tenant(rt, "Small", seat_limit=2)
    platform.members = [member(i) for i in range(1, 4)]
    register_platform(rt, tenant.id, platform)
    launch(client, platform, sub="m-1", email="member1@example.edu")
    run_jobs()
    with rt.db.read() as s:
        op = s.scalar(select(Operation).where(Operation.type == "roster_sync"))
    assert op.status == "failed" and "seat limit" in op.errors[0]["message"]


def test_a_resync_updates_changed_roles_and_re_enrolls_returning_members(rt, client, tenant, platform, run_jobs):
    platform.members = [member(1), member(2)]
    register_platform(rt, tenant.id, platform)
    launch(client, platform, sub="m-1", email="member1@example.edu", roles=[LEARNER])
    run_jobs()
    platform.members = [member(1)]
    _sync_now(rt, client, tenant, run_jobs)
    assert enrollment_of(rt, "member2@example.edu") == ("Learner", "dropped")
    platform.members = [member(1, roles=(TA,)), member(2)]
    op = _sync_now(rt, client, tenant, run_jobs)
    assert op.status == "succeeded" and op.result["users_created"] == 0
    assert enrollment_of(rt, "member1@example.edu") == ("TeachingAssistant", "enrolled")
    assert enrollment_of(rt, "member2@example.edu") == ("Learner", "enrolled")
    assert roster(rt, tenant.id) == {"member2@example.edu"}  # member1 became staff: out of the learner roster


def _automatic_group(client, tenant, rule: str) -> int:
    resp = client.post(
        "/api/v1/groups", json={"name": "Enrolled in 101", "kind": "automatic", "rule": rule}, headers=tenant.admin
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def _members_of(rt, group_id: int) -> set[str]:
    with rt.db.read() as s:
        return set(
            s.scalars(
                select(User.username)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.group_id == group_id)
            )
        )


def test_launches_and_roster_syncs_keep_automatic_groups_current(rt, client, tenant, platform, run_jobs):
    platform.members = [member(1), member(2)]
    register_platform(rt, tenant.id, platform)
    launch(client, platform, sub="m-1", email="member1@example.edu")  # creates course-101, syncs 2 members
    run_jobs()
    group_id = _automatic_group(client, tenant, 'enrollments[course eq "course-101" and status eq "enrolled"]')
    run_jobs()  # the rule's first full evaluation
    assert _members_of(rt, group_id) == {"member1@example.edu", "member2@example.edu"}

    launch(client, platform, sub="newcomer", email="newcomer@example.edu", roles=[LEARNER])  # in line, no job
    assert "newcomer@example.edu" in _members_of(rt, group_id)

    platform.members = [member(1), member(3)]  # member 2 left the course, member 3 joined
    _sync_now(rt, client, tenant, run_jobs)
    assert _members_of(rt, group_id) == {"member1@example.edu", "member3@example.edu"}
