"""Automatic groups: rule validation and preview, full and incremental evaluation, broken rules, CLI."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from provisioning.activity import Actor
from provisioning.errors import Conflict
from provisioning.models import ActivityEvent, Group, Membership, Operation
from provisioning.rules import evaluation as rule_evaluation
from provisioning.rules.definition import reevaluate_users
from provisioning.services.courses import create_course, delete_course, enroll_many
from provisioning.services.memberships import add_members, remove_members
from provisioning.services.users import update_user
from provisioning.store.users import add_user
from server.cli import CliState
from server.cli_rules import register

ACTOR = Actor("test", "cli")
PEOPLE = [
    {
        "username": "ann",
        "email": "ann@acme.com",
        "department": "Sales",
        "title": "Manager",
        "custom_attributes": {"location": "Berlin", "hireDate": "2023-02-01"},
    },
    {
        "username": "bob",
        "email": "bob@partner.com",
        "department": "Sales",
        "custom_attributes": {"location": "Paris", "hireDate": "2024-09-01"},
    },
    {
        "username": "cid",
        "email": "cid@acme.com",
        "department": "Support",
        "status": "deactivated",
        "custom_attributes": {"location": "Berlin", "hireDate": "2022-01-01"},
    },
    {
        "username": "dee",
        "email": "dee@partner.com",
        "department": "Support",
        "custom_attributes": {"location": "Rome", "hireDate": "2025-01-15"},
    },
]


@pytest.fixture
def people(rt, tenant):
    with rt.db.transaction() as s:
        ids = {p["username"]: add_user(s, tenant.id, dict(p), ACTOR).id for p in PEOPLE}
    create_course(rt, tenant.id, "driver-safety", "Driver safety", ACTOR)
    enroll_many(
        rt,
        tenant.id,
        [
            {
                "user_id": ids["ann"],
                "course_id": "driver-safety",
                "status": "completed",
                "completed_at": "2024-03-01T00:00:00Z",
            },
            {"user_id": ids["bob"], "course_id": "driver-safety", "status": "in_progress"},
        ],
        ACTOR,
    )
    return ids


def members(rt, group_id):
    with rt.db.read() as s:
        return set(s.scalars(select(Membership.user_id).where(Membership.group_id == group_id)))


def make_rule_group(client, tenant, run_jobs, rule, name="Auto"):
    r = client.post("/api/v1/groups", json={"name": name, "kind": "automatic", "rule": rule}, headers=tenant.admin)
    assert r.status_code == 201, r.json
    run_jobs()
    return r.json


def operation(rt, op_id):
    with rt.db.read() as s:
        return s.get(Operation, op_id)


@pytest.mark.parametrize(
    "rule, expected",
    [
        ('emails co "@partner.com"', {"bob", "dee"}),
        ('department eq "sales" and active eq true', {"ann", "bob"}),
        ('title pr or department eq "Support"', {"ann", "cid", "dee"}),
        ('location eq "Berlin"', {"ann", "cid"}),
        ('hireDate gt "2024-01-01"', {"bob", "dee"}),
        ('urn:ietf:params:scim:schemas:extension:provisioning:2.0:User:location eq "rome"', {"dee"}),
        ('enrollments[course eq "driver-safety" and status eq "completed"]', {"ann"}),
        ('enrollments[course eq "driver-safety" and completedAt lt "2024-06-01"]', {"ann"}),
        ('enrollments.course eq "driver-safety" and not (enrollments[status eq "completed"])', {"bob"}),
        ("not (enrollments pr)", {"cid", "dee"}),
    ],
)
def test_preview_counts_and_samples_the_matching_users(client, tenant, people, rule, expected):
    r = client.post("/api/v1/rules/preview", json={"rule": rule}, headers=tenant.admin)
    assert r.status_code == 200, r.json
    assert r.json["count"] == len(expected)
    assert {u["username"] for u in r.json["sample"]} == expected


@pytest.mark.parametrize(
    "rule, position, words",
    [
        ('department eq "Sales" and shoeSize gt "9"', 26, "Unknown attribute 'shoeSize'"),
        ('enrollments[course eq "no-such-course" and status eq "completed"]', 22, "No course with external id"),
        ('enrollments[course eq "driver-safety" and status eq "complete"]', 52, "Unknown enrollment status"),
        ('department eq "Sales" and', 25, "ends too early"),
        ("active gt true", 0, "cannot compare"),
    ],
)
def test_a_bad_rule_is_refused_with_the_position_and_the_reason(client, tenant, people, rule, position, words):
    r = client.post("/api/v1/rules/preview", json={"rule": rule}, headers=tenant.admin)
    assert r.status_code == 400, r.json
    assert words in r.json["message"] and f"position {position}" in r.json["message"]
    assert r.json["errors"]["rule"][0].startswith(f"Position {position}:")
    created = client.post(
        "/api/v1/groups", json={"name": "Bad", "kind": "automatic", "rule": rule}, headers=tenant.admin
    )
    assert created.status_code == 400 and "rule" in created.json["errors"]
    assert client.get("/api/v1/groups?q=bad", headers=tenant.admin).json["total"] == 0


def test_an_automatic_group_without_a_rule_starts_no_evaluation_until_it_gets_one(rt, client, tenant, people, run_jobs):
    r = client.post("/api/v1/groups", json={"name": "Auto", "kind": "automatic"}, headers=tenant.admin)
    assert r.status_code == 201 and "evaluation_operation_id" not in r.json["settings"]
    r = client.patch(f"/api/v1/groups/{r.json['id']}", json={"rule": "title pr"}, headers=tenant.admin)
    run_jobs()
    assert members(rt, r.json["id"]) == {people["ann"]}


def test_saving_a_rule_evaluates_it_as_an_operation_that_counts_changes(rt, client, tenant, people, run_jobs):
    group = make_rule_group(client, tenant, run_jobs, 'department eq "Sales"')
    assert members(rt, group["id"]) == {people["ann"], people["bob"]}
    op = operation(rt, group["settings"]["evaluation_operation_id"])
    assert op.type == "rule_evaluation" and op.status == "succeeded"
    assert op.result == {"added": 2, "removed": 0}
    r = client.patch(f"/api/v1/groups/{group['id']}", json={"rule": 'location eq "Berlin"'}, headers=tenant.admin)
    assert r.status_code == 200, r.json
    run_jobs()
    assert members(rt, group["id"]) == {people["ann"], people["cid"]}
    assert operation(rt, r.json["settings"]["evaluation_operation_id"]).result == {"added": 1, "removed": 1}


def test_a_bad_rule_in_a_patch_changes_nothing(rt, client, tenant, people, run_jobs):
    group = make_rule_group(client, tenant, run_jobs, 'department eq "Sales"')
    r = client.patch(f"/api/v1/groups/{group['id']}", json={"rule": "department eq"}, headers=tenant.admin)
    assert r.status_code == 400 and "position 13" in r.json["message"]
    assert client.get(f"/api/v1/groups/{group['id']}", headers=tenant.admin).json["rule"] == 'department eq "Sales"'


def test_members_of_an_automatic_group_cannot_be_changed_by_hand(rt, client, tenant, people, run_jobs):
    group = make_rule_group(client, tenant, run_jobs, 'department eq "Sales"')
    with pytest.raises(Conflict, match="automatic"):
        add_members(rt, tenant.id, group["id"], user_ids=[people["dee"]], actor=ACTOR)
    with pytest.raises(Conflict, match="automatic"):
        remove_members(rt, tenant.id, group["id"], [people["ann"]], ACTOR)
    assert members(rt, group["id"]) == {people["ann"], people["bob"]}


def test_always_and_never_include_lists_override_the_rule(rt, client, tenant, people, run_jobs):
    group = make_rule_group(client, tenant, run_jobs, 'department eq "Sales"')
    r = client.put(
        f"/api/v1/groups/{group['id']}/rule-exceptions",
        json={"always_include": [people["dee"]], "never_include": [people["bob"]]},
        headers=tenant.admin,
    )
    assert r.status_code == 202, r.json
    run_jobs()
    assert members(rt, group["id"]) == {people["ann"], people["dee"]}
    assert operation(rt, r.json["operation_id"]).result == {"added": 1, "removed": 1}
    bad = client.put(
        f"/api/v1/groups/{group['id']}/rule-exceptions", json={"never_include": [999999]}, headers=tenant.admin
    )
    assert bad.status_code == 400 and "never_include" in bad.json["errors"]


def test_an_enrollment_change_re_evaluates_that_user_at_once(rt, client, tenant, people, run_jobs):
    group = make_rule_group(
        client, tenant, run_jobs, 'enrollments[course eq "driver-safety" and status eq "completed"]'
    )
    assert members(rt, group["id"]) == {people["ann"]}
    r = client.post(
        "/api/v1/enrollments",
        json={"user_id": people["bob"], "course_id": "driver-safety", "status": "completed"},
        headers=tenant.admin,
    )
    assert r.status_code == 201
    assert members(rt, group["id"]) == {people["ann"], people["bob"]}  # no job needed
    client.post(
        "/api/v1/enrollments",
        json={"user_id": people["ann"], "course_id": "driver-safety", "status": "dropped"},
        headers=tenant.admin,
    )
    assert members(rt, group["id"]) == {people["bob"]}
    with rt.db.read() as s:
        events = s.execute(
            select(ActivityEvent.action, ActivityEvent.object_type, ActivityEvent.object_id).where(
                ActivityEvent.channel == "rule"
            )
        ).all()
    assert ("group.member_added", "user", str(people["bob"])) in events
    assert ("group.member_removed", "user", str(people["ann"])) in events
    assert ("group.rule_applied", "group", str(group["id"])) in events


def test_reevaluating_a_changed_user_follows_rules_that_depend_on_other_groups(rt, client, tenant, people, run_jobs):
    sales = make_rule_group(client, tenant, run_jobs, 'department eq "Sales"', name="Sales")
    berlin_sales = make_rule_group(
        client, tenant, run_jobs, f'groups[value eq "{sales["id"]}"] and location eq "Berlin"', name="Berlin sales"
    )
    assert members(rt, berlin_sales["id"]) == {people["ann"]}
    update_user(rt, tenant.id, people["cid"], {"department": "Sales"}, ACTOR)
    changes = reevaluate_users(rt, tenant.id, [people["cid"]])
    assert changes == {sales["id"]: (1, 0), berlin_sales["id"]: (1, 0)}
    assert members(rt, berlin_sales["id"]) == {people["ann"], people["cid"]}
    update_user(rt, tenant.id, people["ann"], {"department": "Support"}, ACTOR)
    reevaluate_users(rt, tenant.id, [people["ann"]])
    assert members(rt, sales["id"]) == {people["bob"], people["cid"]}
    assert members(rt, berlin_sales["id"]) == {people["cid"]}


def test_a_rule_naming_a_deleted_course_is_marked_broken_and_keeps_its_members(rt, client, tenant, people, run_jobs):
    group = make_rule_group(client, tenant, run_jobs, 'not (enrollments[course eq "driver-safety"])')
    assert members(rt, group["id"]) == {people["cid"], people["dee"]}
    delete_course(rt, tenant.id, "driver-safety", ACTOR)
    body = client.get(f"/api/v1/groups/{group['id']}", headers=tenant.admin).json
    assert "No course with external id 'driver-safety'" in body["settings"]["rule_error"]["message"]
    r = client.post(f"/api/v1/groups/{group['id']}/evaluate", headers=tenant.admin)
    assert r.status_code == 202
    run_jobs()
    op = operation(rt, r.json["operation_id"])
    assert op.status == "failed" and "broken" in op.errors[0]["message"]
    assert members(rt, group["id"]) == {people["cid"], people["dee"]}  # never emptied, never flooded
    reevaluate_users(rt, tenant.id, list(people.values()))
    assert members(rt, group["id"]) == {people["cid"], people["dee"]}
    with rt.db.read() as s:
        assert s.scalar(select(ActivityEvent.id).where(ActivityEvent.action == "group.rule_broken")) is not None
    create_course(rt, tenant.id, "driver-safety", None, ACTOR)  # fixing the cause, then re-evaluating, heals it
    client.post(f"/api/v1/groups/{group['id']}/evaluate", headers=tenant.admin)
    run_jobs()
    body = client.get(f"/api/v1/groups/{group['id']}", headers=tenant.admin).json
    assert "rule_error" not in body["settings"]
    assert members(rt, group["id"]) == set(people.values())


def test_a_full_evaluation_runs_in_chunks_and_a_repeated_chunk_changes_nothing(
    rt, tenant, people, monkeypatch, client, run_jobs
):
    monkeypatch.setattr(rule_evaluation, "CHUNK", 3)
    with rt.db.transaction() as s:
        extra = [add_user(s, tenant.id, {"email": f"x{i}@partner.com"}, ACTOR).id for i in range(7)]
    group = make_rule_group(client, tenant, run_jobs, 'emails ew "@partner.com"')
    expected = {people["bob"], people["dee"], *extra}
    assert members(rt, group["id"]) == expected
    op = operation(rt, group["settings"]["evaluation_operation_id"])
    assert op.result == {"added": 9, "removed": 0} and op.progress_done == 11 and op.progress_total == 11
    assert op.checkpoint["after_user_id"] == max(extra)
    again = rule_evaluation.evaluate_chunk(rt, op.id, tenant.id, op.params, {})
    assert again["added"] == 0 and again["removed"] == 0
    assert members(rt, group["id"]) == expected


def test_rules_can_name_only_the_tenants_own_groups(rt, client, tenant, other_tenant, people, run_jobs):
    theirs = client.post("/api/v1/groups", json={"name": "Theirs"}, headers=other_tenant.admin).json
    rule = f'title pr or groups[value eq "{theirs["id"]}"]'
    r = client.post("/api/v1/groups", json={"name": "Auto", "kind": "automatic", "rule": rule}, headers=tenant.admin)
    assert r.status_code == 400 and "No group with id" in r.json["message"] and "position 28" in r.json["message"]
    preview = client.post("/api/v1/rules/preview", json={"rule": "department pr"}, headers=other_tenant.admin)
    assert preview.json["count"] == 0


def test_deleting_a_group_a_rule_names_breaks_the_rule_without_emptying_its_group(rt, client, tenant, people, run_jobs):
    sales = client.post("/api/v1/groups", json={"name": "Sales"}, headers=tenant.admin).json
    add_members(rt, tenant.id, sales["id"], user_ids=[people["ann"]], actor=ACTOR)
    group = make_rule_group(client, tenant, run_jobs, f'not (groups[value eq "{sales["id"]}"])')
    assert members(rt, group["id"]) == {people["bob"], people["cid"], people["dee"]}
    assert client.delete(f"/api/v1/groups/{sales['id']}", headers=tenant.admin).status_code == 204
    assert reevaluate_users(rt, tenant.id, [people["ann"]]) == {}  # ann would match now: the rule must not apply
    assert members(rt, group["id"]) == {people["bob"], people["cid"], people["dee"]}
    r = client.post(f"/api/v1/groups/{group['id']}/evaluate", headers=tenant.admin)
    run_jobs()
    assert operation(rt, r.json["operation_id"]).status == "failed"
    assert members(rt, group["id"]) == {people["bob"], people["cid"], people["dee"]}
    body = client.get(f"/api/v1/groups/{group['id']}", headers=tenant.admin).json
    assert "No group with id" in body["settings"]["rule_error"]["message"]


def test_cli_evaluates_every_automatic_group_of_a_tenant(rt, client, tenant, people, run_jobs):
    group = make_rule_group(client, tenant, run_jobs, 'department eq "Sales"')
    with rt.db.transaction() as s:  # a change nobody re-evaluated: the periodic run catches it
        s.execute(Membership.__table__.delete().where(Membership.group_id == group["id"]))
        add_user(s, tenant.id, {"email": "eve@x.org", "department": "Sales"}, ACTOR)

    @click.group()
    def root() -> None:
        pass

    register(root)
    result = CliRunner().invoke(root, ["rules", "evaluate", "--tenant", tenant.slug], obj=CliState(runtime=rt))
    assert result.exit_code == 0, result.output
    assert "Auto: succeeded +3 -0" in result.output
    assert len(members(rt, group["id"])) == 3
    with rt.db.read() as s:
        assert s.get(Group, group["id"]).settings.get("rule_error") is None


def test_admin_api_user_changes_re_evaluate_that_user_at_once(rt, client, tenant, people, run_jobs):
    group = make_rule_group(client, tenant, run_jobs, 'department eq "Sales"')
    r = client.patch(f"/api/v1/users/{people['dee']}", json={"department": "Sales"}, headers=tenant.admin)
    assert r.status_code == 200, r.json
    assert people["dee"] in members(rt, group["id"])  # no job needed
    r = client.post(
        "/api/v1/users",
        json={"email": "new@x.org", "first_name": "New", "last_name": "Person", "department": "sales"},
        headers=tenant.admin,
    )
    assert r.status_code == 201, r.json
    assert r.json["id"] in members(rt, group["id"])


def test_batch_deactivation_and_reactivation_follow_rules_on_active(rt, client, tenant, people, run_jobs):
    group = make_rule_group(client, tenant, run_jobs, 'active eq true and department eq "Sales"')
    assert members(rt, group["id"]) == {people["ann"], people["bob"]}
    r = client.post(
        "/api/v1/batch-actions", json={"action": "deactivate", "user_ids": [people["ann"]]}, headers=tenant.admin
    )
    assert r.status_code == 202, r.json
    run_jobs()
    assert members(rt, group["id"]) == {people["bob"]}
    client.post(
        "/api/v1/batch-actions", json={"action": "reactivate", "user_ids": [people["ann"]]}, headers=tenant.admin
    )
    run_jobs()
    assert members(rt, group["id"]) == {people["ann"], people["bob"]}


def test_a_rule_on_emails_matches_every_address_of_the_user_as_the_scim_filter_does(
    rt, client, tenant, people, run_jobs
):
    r = client.post(
        "/scim/v2/Users",
        json={
            "userName": "eve",
            "emails": [
                {"value": "eve@home.example", "type": "home", "primary": True},
                {"value": "eve@partner.com", "type": "work"},
            ],
        },
        headers=tenant.scim,
    )
    eve = int(r.json["id"])
    anywhere = make_rule_group(client, tenant, run_jobs, 'emails co "@partner.com"', name="Partners")
    assert members(rt, anywhere["id"]) == {people["bob"], people["dee"], eve}
    work = make_rule_group(
        client, tenant, run_jobs, 'emails[type eq "work" and value co "@partner.com"]', name="Partner work"
    )
    assert members(rt, work["id"]) == {eve}
    preview = client.post(
        "/api/v1/rules/preview", json={"rule": 'emails[type eq "work" and value co "partner"]'}, headers=tenant.admin
    ).json
    assert preview["count"] == 1
    scim = client.get("/scim/v2/Users", query_string={"filter": 'emails co "@partner.com"'}, headers=tenant.scim)
    assert {int(u["id"]) for u in scim.json["Resources"]} == members(rt, anywhere["id"])
    # The IdP drops the work address: the user leaves the group at once (incremental re-evaluation).
    client.patch(
        f"/scim/v2/Users/{eve}",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "replace", "path": "emails", "value": [{"value": "eve@home.example", "primary": True}]}
            ],
        },
        headers=tenant.scim,
    )
    assert eve not in members(rt, anywhere["id"]) and eve not in members(rt, work["id"])


def test_rule_made_membership_changes_are_activity_events_per_group_and_per_user(rt, client, tenant, people, run_jobs):
    group = make_rule_group(client, tenant, run_jobs, 'department eq "Sales"')
    other = make_rule_group(client, tenant, run_jobs, 'department eq "Support"', name="Support")
    client.patch(f"/api/v1/users/{people['bob']}", json={"department": "Support"}, headers=tenant.admin)

    def events(**query):
        r = client.get(
            "/api/v1/activity", query_string={"channel": "rule", "per_page": 100, **query}, headers=tenant.admin
        )
        assert r.status_code == 200, r.json
        return [(e["action"], e["object_type"], e["object_id"]) for e in r.json["items"]]

    per_group = events(group_id=group["id"])
    assert ("group.member_added", "user", str(people["ann"])) in per_group
    assert ("group.member_added", "user", str(people["bob"])) in per_group
    assert ("group.member_removed", "user", str(people["bob"])) in per_group
    assert ("group.rule_applied", "group", str(group["id"])) in per_group
    assert all(str(people["cid"]) != object_id for _, _, object_id in per_group)  # never a member of Sales
    assert ("group.member_added", "user", str(people["bob"])) in events(group_id=other["id"])
    per_user = client.get(
        "/api/v1/activity",
        query_string={"object_type": "user", "object_id": str(people["bob"]), "channel": "rule"},
        headers=tenant.admin,
    ).json["items"]
    assert sorted((e["action"], e["details"]["group"]) for e in per_user) == [
        ("group.member_added", "Auto"),
        ("group.member_added", "Support"),
        ("group.member_removed", "Auto"),
    ]


def test_a_csv_member_import_into_an_automatic_group_includes_its_people_and_keeps_the_rule(
    rt, client, tenant, people, run_jobs
):
    from tests.support.api import commit_and_run, preview

    group = make_rule_group(client, tenant, run_jobs, 'department eq "Sales"')
    body = preview(client, tenant, "email_address\ndee@partner.com\n", "members.csv", group_id=group["id"])
    assert body["groups"][0]["automatic"] is True and any("always-included" in w for w in body["warnings"])
    assert members(rt, group["id"]) == {people["ann"], people["bob"]}  # the preview changes nothing
    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.status == "succeeded" and op.result["included"] == 1, op.errors
    assert members(rt, group["id"]) == {people["ann"], people["bob"], people["dee"]}
