"""The permission decision: admins everything, managers their courses' groups, learners their own."""

from __future__ import annotations

import pytest

from provisioning.activity import Actor
from provisioning.errors import Forbidden
from provisioning.lti import launch as lti_launch
from provisioning.permissions import can, principal_for, require
from provisioning.services import groups, memberships, tenants, users

ACTOR = Actor("test", "api")


@pytest.fixture
def school(rt, tenant):
    """A course taught by Tia with a group holding Lee; another course's group holding Max."""
    teacher = users.create_user(rt, tenant.id, {"email": "tia@example.edu"}, ACTOR)
    learner = users.create_user(rt, tenant.id, {"email": "lee@example.edu"}, ACTOR)
    stranger = users.create_user(rt, tenant.id, {"email": "max@example.edu"}, ACTOR)
    with rt.db.transaction() as s:
        course = lti_launch.ensure_course(s, tenant.id, "c-1", "Course 1")
        other_course = lti_launch.ensure_course(s, tenant.id, "c-2", "Course 2")
        lti_launch.enroll(s, tenant.id, course.id, teacher.id, "Instructor")
        lti_launch.enroll(s, tenant.id, course.id, learner.id, "Learner")
    mine = groups.create_group(rt, tenant.id, {"name": "Team A"}, ACTOR)
    theirs = groups.create_group(rt, tenant.id, {"name": "Team B"}, ACTOR)
    lti_launch.add_course_group(rt, tenant.id, course.id, mine.id)
    lti_launch.add_course_group(rt, tenant.id, other_course.id, theirs.id)
    memberships.add_members(rt, tenant.id, mine.id, user_ids=[learner.id], actor=ACTOR)
    memberships.add_members(rt, tenant.id, theirs.id, user_ids=[stranger.id], actor=ACTOR)
    return dict(
        tenant=tenant, course=course, teacher=teacher, learner=learner, stranger=stranger, mine=mine, theirs=theirs
    )


def test_an_instructor_manages_the_groups_of_their_course_only(rt, school):
    p = principal_for(rt, school["tenant"].id, school["teacher"].id, "manager", school["course"].id)
    assert can(rt, p, "manage_users", school["mine"]) and can(rt, p, "export", school["mine"])
    assert not can(rt, p, "manage_users", school["theirs"])
    with pytest.raises(Forbidden):
        require(rt, p, "view_group", school["theirs"])


def test_an_instructor_sees_the_users_of_their_groups_but_no_others(rt, school):
    p = principal_for(rt, school["tenant"].id, school["teacher"].id, "manager")
    assert can(rt, p, "view_users", school["learner"])
    assert not can(rt, p, "view_users", school["stranger"])


def test_the_tenant_permission_set_limits_what_managers_may_do(rt, school):
    with rt.db.transaction() as s:
        from provisioning.models import Tenant

        s.get(Tenant, school["tenant"].id).settings = {"lti": {"manager_permissions": ["view_users"]}}
    p = principal_for(rt, school["tenant"].id, school["teacher"].id, "manager")
    assert can(rt, p, "view_users", school["mine"])
    assert not can(rt, p, "export", school["mine"]) and not can(rt, p, "batch_actions", school["mine"])


def test_a_learner_sees_only_their_own_groups_and_record(rt, school):
    p = principal_for(rt, school["tenant"].id, school["learner"].id, "learner")
    assert can(rt, p, "view_group", school["mine"]) and can(rt, p, "view_own", school["learner"])
    assert not can(rt, p, "view_group", school["theirs"])
    assert not can(rt, p, "view_own", school["teacher"])
    assert not can(rt, p, "manage_users", school["mine"])


def test_an_admin_may_do_anything_in_the_tenant_but_nothing_in_another(rt, school):
    p = principal_for(rt, school["tenant"].id, school["teacher"].id, "admin")
    assert can(rt, p, "batch_actions", school["theirs"]) and can(rt, p, "view_users", school["stranger"])
    other = tenants.create_tenant(rt, "Elsewhere")
    foreign = groups.create_group(rt, other.id, {"name": "Foreign"}, ACTOR)
    assert not can(rt, p, "view_group", foreign)


def test_a_dropped_instructor_no_longer_manages_the_course_groups(rt, school):
    from sqlalchemy import update

    from provisioning.models import Enrollment

    with rt.db.transaction() as s:
        s.execute(update(Enrollment).where(Enrollment.user_id == school["teacher"].id).values(status="dropped"))
    p = principal_for(rt, school["tenant"].id, school["teacher"].id, "manager")
    assert not can(rt, p, "view_group", school["mine"])


def _share(rt, run_jobs, tenant_id: int, manager_id: int, user_ids: list[int]) -> None:
    """The share batch action, run by the job (the real service, not a row written by hand)."""
    from provisioning.batch import actions as batch_actions

    batch_actions.request_batch_action(rt, tenant_id, "share", {"manager_id": manager_id}, ACTOR, user_ids=user_ids)
    run_jobs()


def test_a_user_shared_with_a_manager_is_theirs_to_see_and_act_on(rt, school, run_jobs):
    from provisioning.permissions import user_scope, visible_user_ids

    t = school["tenant"].id
    p = principal_for(rt, t, school["teacher"].id, "manager", school["course"].id)
    assert not can(rt, p, "view_users", school["stranger"])
    _share(rt, run_jobs, t, school["teacher"].id, [school["stranger"].id])
    assert can(rt, p, "view_users", school["stranger"]) and can(rt, p, "batch_actions", school["stranger"])
    assert visible_user_ids(rt, p, [school["stranger"].id, school["learner"].id]) == sorted(
        [school["stranger"].id, school["learner"].id]
    )
    # Sharing users does not share their groups.
    assert not can(rt, p, "view_group", school["theirs"])
    with rt.db.read() as s:
        from sqlalchemy import select

        from provisioning.models import User

        seen = set(s.scalars(select(User.id).where(User.id.in_(user_scope(p)))))
    assert seen == {school["teacher"].id, school["learner"].id, school["stranger"].id}


def test_a_share_with_one_manager_gives_another_nothing(rt, school, run_jobs):
    from provisioning.permissions import visible_user_ids

    t = school["tenant"].id
    other = users.create_user(rt, t, {"email": "oz@example.edu", "role": "manager"}, ACTOR)
    _share(rt, run_jobs, t, other.id, [school["learner"].id, school["stranger"].id])
    tia = principal_for(rt, t, school["teacher"].id, "manager", school["course"].id)
    oz = principal_for(rt, t, other.id, "manager")
    assert not can(rt, tia, "view_users", school["stranger"])  # shared with Oz, not with Tia
    assert can(rt, oz, "manage_users", school["stranger"]) and not can(rt, oz, "view_group", school["mine"])
    assert visible_user_ids(rt, oz, [school["teacher"].id, school["stranger"].id]) == [school["stranger"].id]


def test_a_shared_user_is_still_out_of_reach_when_the_permission_set_forbids_the_action(rt, school, run_jobs):
    from provisioning.models import Tenant

    t = school["tenant"].id
    _share(rt, run_jobs, t, school["teacher"].id, [school["stranger"].id])
    with rt.db.transaction() as s:
        s.get(Tenant, t).settings = {"lti": {"manager_permissions": ["view_users"]}}
    p = principal_for(rt, t, school["teacher"].id, "manager")
    assert can(rt, p, "view_users", school["stranger"]) and not can(rt, p, "batch_actions", school["stranger"])
