"""Tenant roles (issue 17 item 5): /api/v1/roles, the role a person is given (users API, batch action
change_role, SCIM), the CLI, and what a custom role lets a person do in the UI, decided on every request."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from provisioning.lti import launch as lti_launch
from provisioning.models import ActivityEvent, Course, User
from provisioning.services import groups, memberships, roles, users
from server.cli import CliState, cli
from tests.support.api import batch, commit_and_run, preview
from tests.support.factories import ADMIN, make_user
from tests.support.lti_platform import INSTRUCTOR, LEARNER, register_platform
from tests.support.personas import launched

URL = "/api/v1/roles"
BUILTIN = ["learner", "curator", "manager", "reporter", "admin"]


def _role_of(rt, user_id: int) -> str:
    with rt.db.read() as s:
        return s.scalar(select(User.role).where(User.id == user_id))


def create(client, tenant, **body):
    return client.post(URL, json=body, headers=tenant.admin)


def test_every_tenant_has_the_built_in_roles_with_their_permissions_and_people(rt, client, tenant):
    make_user(rt, tenant.id, "ann")
    make_user(rt, tenant.id, "bob", role="reporter")
    r = client.get(URL, headers=tenant.admin)
    assert r.status_code == 200, r.json
    by_key = {item["key"]: item for item in r.json["items"]}
    assert [item["key"] for item in r.json["items"]] == BUILTIN
    assert [by_key[k]["label"] for k in BUILTIN] == ["Learner", "Curator", "Manager", "Report viewer", "Administrator"]
    assert all(item["builtin"] for item in r.json["items"])
    assert by_key["learner"]["permissions"] == [] and by_key["learner"]["people"] == 1
    assert by_key["reporter"]["people"] == 1
    assert "manage_group" not in by_key["reporter"]["permissions"]
    assert {"view_activity", "export", "view_members"} <= set(by_key["reporter"]["permissions"])
    assert by_key["manager"]["scope"] == "courses_taught"
    assert set(by_key["admin"]["permissions"]) == {p["key"] for p in r.json["permissions"]}


def test_a_custom_role_is_created_changed_and_deleted_and_each_change_is_audited(rt, client, tenant):
    r = create(client, tenant, label="Team lead", description="Leads a team", permissions=["view_users", "export"])
    assert r.status_code == 201, r.json
    assert (r.json["key"], r.json["permissions"], r.json["builtin"], r.json["people"]) == (
        "team_lead",
        ["view_users", "export"],
        False,
        0,
    )
    r = client.patch(f"{URL}/team_lead", json={"permissions": ["view_activity"]}, headers=tenant.admin)
    assert r.status_code == 200 and r.json["permissions"] == ["view_activity"]
    assert client.get(f"{URL}/Team lead", headers=tenant.admin).json["key"] == "team_lead"
    assert client.delete(f"{URL}/team_lead", headers=tenant.admin).status_code == 204
    assert client.get(f"{URL}/team_lead", headers=tenant.admin).status_code == 404
    with rt.db.read() as s:
        actions = list(s.scalars(select(ActivityEvent.action).where(ActivityEvent.object_type == "role")))
    assert actions == ["role.created", "role.updated", "role.deleted"]


def test_bad_roles_are_refused_naming_the_field(client, tenant):
    r = create(client, tenant, label="Auditor", permissions=["view_activity", "launch_rockets"])
    assert r.status_code == 400 and "'launch_rockets'" in r.json["errors"]["permissions"][0]
    r = create(client, tenant, label="  ", permissions=[])
    assert r.status_code == 400 and "label" in r.json["errors"]
    r = create(client, tenant, label="Report viewer")
    assert r.status_code == 409 and "Report viewer" in r.json["message"]
    assert create(client, tenant, label="Auditor").status_code == 201
    assert create(client, tenant, label="auditor").status_code == 409


def test_built_in_roles_cant_be_changed_or_deleted(client, tenant):
    for key in BUILTIN:
        r = client.delete(f"{URL}/{key}", headers=tenant.admin)
        assert r.status_code == 409 and "built-in" in r.json["message"], key
    r = client.patch(f"{URL}/reporter", json={"permissions": ["manage_group"]}, headers=tenant.admin)
    assert r.status_code == 409


def test_deleting_a_role_people_have_is_a_409_saying_how_many(rt, client, tenant):
    create(client, tenant, label="Auditor", permissions=["view_activity"])
    for name in ("ann", "bob"):
        make_user(rt, tenant.id, name, role="auditor")
    r = client.delete(f"{URL}/auditor", headers=tenant.admin)
    assert r.status_code == 409, r.json
    assert "2 people have it" in r.json["message"]
    assert client.get(f"{URL}/auditor", headers=tenant.admin).json["people"] == 2


def test_the_users_api_takes_a_role_by_key_or_name_and_refuses_an_unknown_one_naming_it(rt, client, tenant):
    create(client, tenant, label="Auditor", permissions=["view_activity"])
    ann = make_user(rt, tenant.id, "ann")
    r = client.patch(f"/api/v1/users/{ann.id}", json={"role": "emperor"}, headers=tenant.admin)
    assert r.status_code == 400, r.json
    assert "'emperor'" in r.json["errors"]["role"][0] and "auditor" in r.json["errors"]["role"][0]
    r = client.patch(f"/api/v1/users/{ann.id}", json={"role": "Auditor"}, headers=tenant.admin)
    assert r.status_code == 200 and r.json["role"] == "auditor"
    r = client.patch(f"/api/v1/users/{ann.id}", json={"role": "Report viewer"}, headers=tenant.admin)
    assert r.status_code == 200 and r.json["role"] == "reporter"


def test_the_change_role_batch_action_takes_a_custom_role_and_refuses_an_unknown_one(rt, client, tenant, run_jobs):
    create(client, tenant, label="Auditor", permissions=["view_activity"])
    ann, bob = make_user(rt, tenant.id, "ann"), make_user(rt, tenant.id, "bob")
    r = batch(client, tenant, "change_role", user_ids=[ann.id], params={"role": "emperor"})
    assert r.status_code == 400 and "'emperor'" in r.json["errors"]["params.role"][0]
    r = batch(client, tenant, "change_role", user_ids=[ann.id, bob.id], params={"role": "Auditor"})
    assert r.status_code == 202, r.json
    run_jobs()
    assert (_role_of(rt, ann.id), _role_of(rt, bob.id)) == ("auditor", "auditor")
    r = batch(client, tenant, "change_role", user_ids=[ann.id], params={"role": "curator"})
    assert r.status_code == 202
    run_jobs()
    assert _role_of(rt, ann.id) == "curator"


def test_roles_are_the_tenants_own(rt, client, tenant, other_tenant):
    create(client, tenant, label="Auditor", permissions=["view_activity"])
    keys = [i["key"] for i in client.get(URL, headers=other_tenant.admin).json["items"]]
    assert keys == BUILTIN
    assert client.get(f"{URL}/auditor", headers=other_tenant.admin).status_code == 404
    assert client.delete(f"{URL}/auditor", headers=other_tenant.admin).status_code == 404
    theirs = make_user(rt, other_tenant.id, "zed")
    r = client.patch(f"/api/v1/users/{theirs.id}", json={"role": "auditor"}, headers=other_tenant.admin)
    assert r.status_code == 400 and "'auditor'" in r.json["errors"]["role"][0]
    # The other tenant may have a role of the same name, its own.
    assert create(client, other_tenant, label="Auditor", permissions=["export"]).json["permissions"] == ["export"]
    assert client.get(f"{URL}/auditor", headers=tenant.admin).json["permissions"] == ["view_activity"]


def test_scim_roles_are_kept_as_the_identity_provider_sent_them_and_grant_nothing(rt, client, tenant):
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "sam@example.edu",
        "roles": [{"value": "admin", "primary": True}],
    }
    r = client.post("/scim/v2/Users", json=body, headers=tenant.scim)
    assert r.status_code == 201, r.json
    assert r.json["roles"] == [{"value": "admin", "primary": True}]
    assert _role_of(rt, int(r.json["id"])) == "learner"


def test_the_cli_lists_creates_and_deletes_roles(rt, tenant):
    def run(*args):
        return CliRunner().invoke(cli, list(args), obj=CliState(runtime=rt))

    r = run("roles", "create", "--tenant", tenant.slug, "Auditor", "--permission", "view_activity")
    assert r.exit_code == 0, r.output
    assert "Created role Auditor (auditor): view_activity" in r.output
    listing = run("roles", "list", "--tenant", tenant.slug).output
    assert [line.split("\t")[0] for line in listing.splitlines()] == [*BUILTIN, "auditor"]
    make_user(rt, tenant.id, "ann", role="auditor")
    r = run("roles", "delete", "--tenant", tenant.slug, "auditor")
    assert r.exit_code != 0 and "1 person has it" in r.output
    users.update_user(rt, tenant.id, _user_id(rt, tenant.id, "ann"), {"role": "learner"}, ADMIN)
    r = run("roles", "delete", "--tenant", tenant.slug, "auditor")
    assert r.exit_code == 0 and "Deleted role auditor." in r.output
    r = run("roles", "create", "--tenant", tenant.slug, "Bad", "--permission", "fly")
    assert r.exit_code != 0 and "'fly'" in r.output


def _user_id(rt, tenant_id: int, username: str) -> int:
    with rt.db.read() as s:
        return s.scalar(select(User.id).where(User.tenant_id == tenant_id, User.username == username))


def test_the_role_picker_lists_the_tenants_roles_with_their_words(rt, tenant):
    roles.create_role(rt, tenant.id, {"label": "Auditor", "description": "Reads logs"}, ADMIN)
    choices = roles.role_choices(rt, tenant.id)
    assert [c["key"] for c in choices] == [*BUILTIN, "auditor"]
    assert choices[-1] == {"key": "auditor", "label": "Auditor", "description": "Reads logs"}


def test_a_custom_role_grants_exactly_its_permissions_and_a_change_applies_on_the_next_request(
    rt, app, client, tenant, platform
):
    """An auditor (view_activity only) sees the logs and nothing else; given view_users, the people list too."""
    register_platform(rt, tenant.id, platform)
    roles.create_role(rt, tenant.id, {"label": "Auditor", "permissions": ["view_activity"]}, ADMIN)
    first = launched(client, app, platform, sub="aud", email="aud@example.edu", roles=[LEARNER], context="c1")
    users.update_user(rt, tenant.id, first.user_id, {"role": "auditor"}, ADMIN)
    aud = launched(client, app, platform, sub="aud", email="aud@example.edu", roles=[LEARNER], context="c1")
    group = groups.create_group(rt, tenant.id, {"name": "Seminar"}, ADMIN)
    assert aud.session.get("/ui/logs").status_code == 200
    assert aud.session.get("/ui/activity").status_code == 200
    assert aud.session.get("/ui/people").status_code == 403
    assert aud.session.get(f"/ui/groups/{group.id}").status_code == 403
    assert aud.session.get("/ui/groups/new").status_code == 403
    roles.update_role(rt, tenant.id, "auditor", {"permissions": ["view_activity", "view_users"]}, ADMIN)
    assert aud.session.get("/ui/people").status_code == 200
    roles.update_role(rt, tenant.id, "auditor", {"permissions": []}, ADMIN)
    assert aud.session.get("/ui/logs").status_code == 403


def test_a_learner_launched_as_instructor_manages_that_course_and_a_report_viewer_changes_nothing(
    rt, app, client, tenant, platform
):
    register_platform(rt, tenant.id, platform)
    teacher = launched(client, app, platform, sub="tea", email="tea@example.edu", roles=[INSTRUCTOR], context="c1")
    assert _role_of(rt, teacher.user_id) == "learner"
    first = launched(client, app, platform, sub="rep", email="rep@example.edu", roles=[LEARNER], context="c2")
    users.update_user(rt, tenant.id, first.user_id, {"role": "reporter"}, ADMIN)
    rep = launched(client, app, platform, sub="rep", email="rep@example.edu", roles=[LEARNER], context="c2")
    with rt.db.read() as s:
        course = s.scalar(select(Course).where(Course.tenant_id == tenant.id, Course.external_id == "c1"))
    group = groups.create_group(rt, tenant.id, {"name": "Seminar"}, ADMIN)
    lti_launch.add_course_group(rt, tenant.id, course.id, group.id)
    kim = make_user(rt, tenant.id, "kim")
    memberships.add_members(rt, tenant.id, group.id, user_ids=[kim.id], actor=ADMIN)
    remove = f"/ui/groups/{group.id}/members/{kim.id}/remove"
    assert rep.session.post(remove).status_code == 403
    assert kim.id in memberships.member_ids_among(rt, tenant.id, group.id, [kim.id])
    assert teacher.session.post(remove).status_code in (200, 302, 303)
    assert kim.id not in memberships.member_ids_among(rt, tenant.id, group.id, [kim.id])
    assert rep.session.get(f"/ui/groups/{group.id}").status_code == 200
    assert rep.session.get("/ui/logs").status_code == 200
    nav = rep.session.get("/ui/groups").get_data(as_text=True)
    assert "Report viewer" in nav and ">Action log<" in nav
    assert ">Create group<" not in nav and ">Upload<" not in nav and ">Roles<" not in nav


def test_the_roles_page_lists_roles_in_words_and_creates_and_deletes_custom_ones(rt, owner, tenant):
    page = owner.get("/ui/roles")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for words in ("Report viewer", "Curator", "Administrator", "See the action, activity and email logs"):
        assert words in html
    assert "view_activity</li>" not in html  # permissions in words, not their internal names
    r = owner.post("/ui/roles", {"label": "Auditor", "description": "Reads the logs", "permissions": "view_activity"})
    assert r.status_code == 302
    assert "The role Auditor was created." in owner.client.get(r.headers["Location"]).get_data(as_text=True)
    assert roles.get_role(rt, tenant.id, "auditor").permissions == ("view_activity",)
    bad = owner.post("/ui/roles", {"label": "", "permissions": "fly"})
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "The role was not created" in text and "<strong>What people with this role may do</strong>" in text
    make_user(rt, tenant.id, "ann", role="auditor")
    refused = owner.post("/ui/roles/auditor/delete")
    assert refused.status_code == 409 and "1 person has it" in refused.get_data(as_text=True)
    assert owner.post("/ui/roles/reporter/delete").status_code == 409
    users.update_user(rt, tenant.id, _user_id(rt, tenant.id, "ann"), {"role": "learner"}, ADMIN)
    done = owner.post("/ui/roles/auditor/delete")
    assert done.status_code == 302
    assert "The role was deleted." in owner.client.get(done.headers["Location"]).get_data(as_text=True)
    assert owner.post("/ui/roles/nobody/delete").status_code == 404


def test_scheduled_reports_go_to_roles_that_see_members_never_to_learners(rt, client, tenant):
    group = groups.create_group(rt, tenant.id, {"name": "Seminar"}, ADMIN)
    for name, role in (("rea", "reporter"), ("lea", "learner"), ("cur", "curator")):
        make_user(rt, tenant.id, name, role=role)

    def schedule(email):
        body = {"report_type": "group_progress", "group_id": group.id, "frequency": "weekly", "recipients": [email]}
        return client.post("/api/v1/reports/schedules", json=body, headers=tenant.admin)

    assert schedule("rea@example.edu").status_code == 201
    assert schedule("cur@example.edu").status_code == 201
    r = schedule("lea@example.edu")
    assert r.status_code == 400 and "report viewer" in r.json["errors"]["recipients.0"][0]


def test_a_users_file_gives_built_in_roles_by_name_custom_ones_by_key_and_flags_unknown_ones(
    rt, client, tenant, run_jobs
):
    roles.create_role(rt, tenant.id, {"label": "Auditor", "permissions": ["view_activity"]}, ADMIN)
    csv = (
        "email,username,role\n"
        "ann@example.edu,ann,Report viewer\n"
        "bob@example.edu,bob,auditor\n"
        "cyd@example.edu,cyd,emperor\n"
        "dee@example.edu,dee,Not a key!\n"
    )
    body = preview(client, tenant, csv)
    errors = {e["row"]: e for e in body["errors"]}
    assert sorted(errors) == [4, 5] and {e["column"] for e in errors.values()} == {"role"}
    assert "its roles are: learner, curator, manager, reporter, admin, auditor" in errors[4]["message"]
    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.status == "succeeded", op.result
    assert (_role_of(rt, _user_id(rt, tenant.id, "ann")), _role_of(rt, _user_id(rt, tenant.id, "bob"))) == (
        "reporter",
        "auditor",
    )
    assert _user_id(rt, tenant.id, "cyd") is None


def test_a_custom_role_changes_accounts_only_with_manage_users_and_never_staffs(rt, app, client, tenant, platform):
    register_platform(rt, tenant.id, platform)
    roles.create_role(rt, tenant.id, {"label": "Helper", "permissions": ["view_users", "batch_actions"]}, ADMIN)
    first = launched(client, app, platform, sub="hel", email="hel@example.edu", roles=[LEARNER], context="c1")
    users.update_user(rt, tenant.id, first.user_id, {"role": "helper"}, ADMIN)
    helper = launched(client, app, platform, sub="hel", email="hel@example.edu", roles=[LEARNER], context="c1")
    ann = make_user(rt, tenant.id, "ann")
    cur = make_user(rt, tenant.id, "cur", role="curator")

    def deactivate(user):
        form = {"action": "deactivate", "user_ids": str(user.id), "confirmed": "yes"}
        return helper.session.post("/ui/people/batch", form)

    assert deactivate(ann).status_code == 403
    roles.update_role(rt, tenant.id, "helper", {"permissions": ["view_users", "batch_actions", "manage_users"]}, ADMIN)
    assert deactivate(cur).status_code == 403
    assert deactivate(ann).status_code in (302, 303)
    change = {"action": "change_role", "user_ids": str(ann.id), "role": "admin", "confirmed": "yes"}
    assert helper.session.post("/ui/people/batch", change).status_code == 403
    assert _role_of(rt, ann.id) == "learner"
