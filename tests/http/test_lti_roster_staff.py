"""Roster syncs keep course staff apart from the learner roster, and never lock out the instructor who ran
them: a real launch and sync through the test platform, whose membership list leaves instructors out (as
many LMSs' do)."""

from __future__ import annotations

import re

from sqlalchemy import select

from provisioning.models import Enrollment, LtiContext, Membership, Operation, User
from tests.support.lti_platform import INSTRUCTOR, LEARNER, TA, launch, register_platform
from tests.support.signin import UiSession


def _learner(n: int) -> dict:
    return {"user_id": f"l-{n}", "status": "Active", "roles": [LEARNER], "email": f"lou{n}@example.edu"}


def _session(client, resp) -> UiSession:
    return UiSession(client, re.search(r'name="launch-token" content="([^"]+)"', resp.get_data(as_text=True)).group(1))


def _roster_group(rt) -> int:
    with rt.db.read() as s:
        return s.scalar(select(LtiContext.roster_group_id))


def _enrollment(rt, email: str) -> tuple[str, str]:
    with rt.db.read() as s:
        return tuple(s.execute(select(Enrollment.role, Enrollment.status).join(User).where(User.email == email)).one())


def _group_members(rt, group_id: int) -> set[str]:
    with rt.db.read() as s:
        return set(s.scalars(select(User.email).join(Membership).where(Membership.group_id == group_id)))


def test_a_sync_whose_list_leaves_out_the_instructors_keeps_them_and_their_access(
    rt, client, tenant, platform, run_jobs
):
    register_platform(rt, tenant.id, platform)
    # A TA launched earlier; then the instructor launches. The list names learners only.
    launch(client, platform, sub="ta-1", email="tam@example.edu", roles=[TA], nrps=False)
    platform.members = [_learner(1), _learner(2)]
    landing = launch(client, platform, sub="t-1", email="tia@example.edu", roles=[INSTRUCTOR])
    assert 'id="roster-sync"' in landing.get_data(as_text=True)
    run_jobs()  # the launch's full sync: everyone unlisted leaves, except staff

    group = _roster_group(rt)
    assert _group_members(rt, group) == {"lou1@example.edu", "lou2@example.edu"}
    assert _enrollment(rt, "tia@example.edu") == ("Instructor", "enrolled")
    assert _enrollment(rt, "tam@example.edu") == ("TeachingAssistant", "enrolled")
    tia = _session(client, landing)
    page = tia.get(f"/ui/groups/{group}")
    assert page.status_code == 200 and "lou1@example.edu" in page.get_data(as_text=True)

    # A later sync started from the group page: lou2 left; the instructors are still not listed.
    platform.differences = [{**_learner(2), "status": "Deleted"}]
    assert tia.post(f"/ui/groups/{group}/sync").status_code == 302
    run_jobs()
    assert _group_members(rt, group) == {"lou1@example.edu"}
    assert _enrollment(rt, "lou2@example.edu") == ("Learner", "dropped")
    assert _enrollment(rt, "tia@example.edu") == ("Instructor", "enrolled")
    assert tia.get(f"/ui/groups/{group}").status_code == 200


def test_a_learner_the_list_leaves_out_is_still_dropped(rt, client, tenant, platform, run_jobs):
    register_platform(rt, tenant.id, platform)
    launch(client, platform, sub="l-9", email="lou9@example.edu", roles=[LEARNER], nrps=False)
    # An instructor listed as Inactive, whom this service has never seen, changes nothing.
    platform.members = [_learner(1), {"user_id": "gone-1", "status": "Inactive", "roles": [INSTRUCTOR]}]
    launch(client, platform, sub="t-1", email="tia@example.edu", roles=[INSTRUCTOR])
    run_jobs()
    with rt.db.read() as s:
        op = s.scalar(select(Operation).where(Operation.type == "roster_sync"))
    assert op.status == "succeeded", op.errors
    assert _enrollment(rt, "lou9@example.edu") == ("Learner", "dropped")


def test_the_sync_leaves_the_launching_instructors_own_role_as_their_launch_made_it(
    rt, client, tenant, platform, run_jobs
):
    """The list is older than the launch: it names the instructor as a learner, or as gone."""
    register_platform(rt, tenant.id, platform)
    platform.members = [_learner(1), {"user_id": "t-1", "status": "Active", "roles": [LEARNER]}]
    landing = launch(client, platform, sub="t-1", email="tia@example.edu", roles=[INSTRUCTOR])
    run_jobs()
    assert _enrollment(rt, "tia@example.edu") == ("Instructor", "enrolled")
    assert _session(client, landing).get(f"/ui/groups/{_roster_group(rt)}").status_code == 200
