"""Roles through real launches from the test platform: course roles grant course rights only, #None is never
a course role, the order of the roles claim changes nothing, and the tenant's admin_roles setting (admin API
and CLI) decides which system/institution roles make an admin. The role lists are those of
tests/unit/test_lti_roles.py, where each platform's source is cited."""

from __future__ import annotations

import re

from click.testing import CliRunner
from sqlalchemy import select

from provisioning.activity import Actor
from provisioning.models import Enrollment, LtiContext, User
from provisioning.services.users import create_user
from server.cli import CliState, cli
from tests.support.lti_platform import INSTRUCTOR, LEARNER, launch, register_platform
from tests.support.signin import UiSession

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
SYS, INST, CTX = LIS + "system/person#", LIS + "institution/person#", LIS + "membership#"
OPEN_EDX_STAFF = [SYS + "Administrator", INST + "Instructor", CTX + "Administrator"]
D2L_COURSE_ADMIN = [CTX + "Administrator", INST + "Staff"]


def _text(resp) -> str:
    return resp.get_data(as_text=True)


def _summary(resp) -> tuple[str, str, str]:
    """(our role, the course role, the words the landing page says) of a landing page."""
    found = re.search(r'data-role="([^"]*)" data-lti-role="([^"]*)"[^>]*>\s*(Signed in as [^<]*?)\s*</p>', _text(resp))
    assert found, _text(resp)
    return found.group(1), found.group(2), found.group(3)


def _session(client, resp) -> UiSession:
    return UiSession(client, re.search(r'name="launch-token" content="([^"]+)"', _text(resp)).group(1))


def _course_roster_group(rt, client, platform, run_jobs, context_id: str, instructor: str) -> int:
    """A course launched by its instructor, its roster synced: the roster group's id."""
    platform.context_id = context_id
    platform.members = [{"user_id": f"{context_id}-l", "status": "Active", "roles": [LEARNER]}]
    launch(client, platform, sub=instructor, email=f"{instructor}@example.edu", roles=[INSTRUCTOR])
    run_jobs()
    with rt.db.read() as s:
        return s.scalar(select(LtiContext.roster_group_id).where(LtiContext.context_id == context_id))


def test_a_course_administrator_manages_their_course_only_and_is_not_a_tenant_admin(
    rt, client, tenant, platform, run_jobs
):
    register_platform(rt, tenant.id, platform)
    other_course = _course_roster_group(rt, client, platform, run_jobs, "course-101", "teacher-a")
    own_course = _course_roster_group(rt, client, platform, run_jobs, "course-202", "teacher-b")
    tenant_group = client.post("/api/v1/groups", json={"name": "Payroll"}, headers=tenant.admin).get_json()["id"]

    landing = launch(client, platform, sub="ca-1", email="ca@example.edu", roles=D2L_COURSE_ADMIN)
    assert _summary(landing) == (
        "manager",
        "Administrator",
        "Signed in as Course administrator in Course One.",
    )
    ui = _session(client, landing)
    assert ui.get(f"/ui/groups/{own_course}").status_code == 200
    assert ui.get(f"/ui/groups/{other_course}").status_code in (403, 404)
    assert ui.get(f"/ui/groups/{tenant_group}").status_code in (403, 404)
    listing = _text(ui.get("/ui/groups"))
    assert "Payroll" not in listing and "Roster: Course One" in listing  # both roster groups are titled so
    with rt.db.read() as s:
        role = s.scalar(select(Enrollment.role).join(User).where(User.email == "ca@example.edu"))
    assert role == "Administrator"


def test_open_edx_course_staff_are_managers_once_the_tenant_trusts_only_institution_admins(
    rt, client, tenant, platform
):
    register_platform(rt, tenant.id, platform)
    assert _summary(launch(client, platform, sub="s-1", roles=OPEN_EDX_STAFF))[0] == "admin"  # the default
    narrowed = client.patch(
        "/api/v1/lti/settings", json={"admin_roles": [INST + "Administrator"]}, headers=tenant.admin
    )
    assert narrowed.status_code == 200 and narrowed.get_json()["admin_roles"] == [INST + "Administrator"]
    assert _summary(launch(client, platform, sub="s-1", roles=OPEN_EDX_STAFF))[:2] == ("manager", "Administrator")


def test_the_admin_roles_setting_refuses_course_roles_with_a_400_naming_the_field(client, tenant):
    for bad in ([CTX + "Administrator"], ["Instructor"], "x", [1]):
        resp = client.patch("/api/v1/lti/settings", json={"admin_roles": bad}, headers=tenant.admin)
        assert resp.status_code == 400 and "admin_roles" in resp.get_json()["errors"], resp.get_json()
    assert client.get("/api/v1/lti/settings", headers=tenant.admin).get_json()["admin_roles"] == [
        INST + "Administrator",
        SYS + "Administrator",
    ]


def test_a_none_system_role_with_a_learner_context_role_is_a_learner_and_the_page_says_so(rt, client, tenant, platform):
    register_platform(rt, tenant.id, platform)
    for n, roles in enumerate(
        (
            [SYS + "None", INST + "None", CTX + "Learner"],
            [CTX + "Learner", SYS + "None"],
            [INST + "None", CTX + "Learner", SYS + "None"],
        )
    ):
        landing = launch(client, platform, sub=f"l-{n}", email=f"l{n}@example.edu", roles=roles)
        assert _summary(landing) == ("learner", "Learner", "Signed in as Learner in Course One.")
    with rt.db.read() as s:
        assert set(s.scalars(select(Enrollment.role))) == {"Learner"}


def test_the_order_of_the_roles_claim_changes_nothing(rt, client, tenant, platform):
    register_platform(rt, tenant.id, platform)
    canvas_admin_teacher = [
        INST + "Administrator",
        INST + "Instructor",
        INST + "Student",
        CTX + "Instructor",
        SYS + "User",
    ]
    for roles in (canvas_admin_teacher, D2L_COURSE_ADMIN, [SYS + "None", CTX + "Learner", INST + "Student"]):
        seen = {
            _summary(launch(client, platform, sub="same", email="same@example.edu", roles=roles[i:] + roles[:i]))
            for i in range(len(roles))
        } | {_summary(launch(client, platform, sub="same", email="same@example.edu", roles=roles[::-1]))}
        assert len(seen) == 1, seen


def test_the_cli_shows_and_changes_the_lti_settings(rt, tenant, platform, client):
    def run(*args):
        return CliRunner().invoke(cli, ["lti", "settings", *args], obj=CliState(runtime=rt))

    shown = run(str(tenant.id))
    assert shown.exit_code == 0 and f"admin_roles: {INST}Administrator, {SYS}Administrator" in shown.output
    changed = run(str(tenant.id), "--admin-role", "urn:lti:instrole:ims/lis/Administrator")
    assert changed.exit_code == 0 and f"admin_roles: {INST}Administrator\n" in changed.output
    register_platform(rt, tenant.id, platform)
    assert _summary(launch(client, platform, sub="s-2", roles=OPEN_EDX_STAFF))[0] == "manager"
    refused = run(str(tenant.id), "--admin-role", CTX + "Administrator")
    assert refused.exit_code == 1 and "course roles never make a tenant admin" in refused.stderr
    assert "Traceback" not in refused.output
    assert "admin_roles: (none)" in run(str(tenant.id), "--no-admin-roles").output


def test_an_enrollment_role_given_as_an_lti_role_is_read_like_a_launchs(rt, client, tenant):
    """The admin API (and enrollment imports) store a context role URI as the course role a launch stores."""
    client.post("/api/v1/courses", json={"external_id": "c1"}, headers=tenant.admin)
    for n, (given, stored) in enumerate(
        (
            (CTX + "Instructor", "Instructor"),
            ("urn:lti:role:ims/lis/Learner/Instructor", "Learner"),
            (LIS + "membership/Instructor#TeachingAssistant", "TeachingAssistant"),
            (INST + "Administrator", INST + "Administrator"),  # not a course role: kept as text, manages nothing
            ("Teacher of record", "Teacher of record"),
        )
    ):
        email = f"e{n}@example.edu"
        create_user(rt, tenant.id, {"email": email}, Actor("test", "api"))
        resp = client.post(
            "/api/v1/enrollments", json={"email": email, "course_id": "c1", "role": given}, headers=tenant.admin
        )
        assert resp.status_code == 201, resp.get_json()
        with rt.db.read() as s:
            assert s.scalar(select(Enrollment.role).join(User).where(User.email == email)) == stored


def test_an_institution_role_the_lti_role_map_lists_gives_its_tenant_role_for_the_session_only(
    rt, client, tenant, platform
):
    register_platform(rt, tenant.id, platform)
    group = client.post("/api/v1/groups", json={"name": "Payroll"}, headers=tenant.admin).get_json()["id"]
    faculty = [INST + "Faculty", CTX + "Learner"]
    # Without a map: a learner.
    plain = _session(client, launch(client, platform, sub="fac-1", email="fac@example.edu", roles=faculty))
    assert plain.get("/ui/logs").status_code == 403
    assert plain.get(f"/ui/groups/{group}").status_code in (403, 404)

    bad = client.patch(
        "/api/v1/settings", json={"lti_role_map": {CTX + "Instructor": "reporter"}}, headers=tenant.admin
    )
    assert bad.status_code == 400 and "course roles" in bad.get_json()["errors"]["lti_role_map"][0]
    mapped = client.patch(
        "/api/v1/settings",
        json={"lti_role_map": {"urn:lti:instrole:ims/lis/Faculty": "reporter"}},
        headers=tenant.admin,
    )
    assert mapped.status_code == 200 and mapped.get_json()["lti_role_map"] == {INST + "Faculty": "reporter"}
    ui = _session(client, launch(client, platform, sub="fac-1", email="fac@example.edu", roles=faculty))
    assert ui.get("/ui/logs").status_code == 200
    assert ui.get(f"/ui/groups/{group}").status_code == 200
    # A report viewer changes nothing.
    assert ui.post("/ui/groups/new", {"name": "Mine"}).status_code == 403
    assert ui.post(f"/ui/groups/{group}/edit", {"name": "Renamed"}).status_code == 403
    assert ui.post(f"/ui/groups/{group}/members", {"user": "fac@example.edu"}).status_code == 403
    assert ui.get("/ui/settings").status_code == 403
    with rt.db.read() as s:
        person = s.scalar(select(User).where(User.email == "fac@example.edu"))
    assert person.role == "learner"  # the launch's role is the session's, never stored
    # The map is read on every request: emptied, the session is a learner's again.
    client.patch("/api/v1/settings", json={"lti_role_map": {}}, headers=tenant.admin)
    assert ui.get("/ui/logs").status_code == 403
    # A deactivated person gets nothing, whatever the map.
    client.patch("/api/v1/settings", json={"lti_role_map": {INST + "Faculty": "admin"}}, headers=tenant.admin)
    assert ui.get("/ui/settings").status_code == 200  # the admin's choice, for the session
    client.patch(f"/api/v1/users/{person.id}", json={"active": False}, headers=tenant.admin)
    assert ui.get("/ui/logs").status_code in (401, 403)
