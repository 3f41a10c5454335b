"""Users bulk create/update (format "users"): known and mapped columns, invited users, seat limit."""

import json

from provisioning import activity
from provisioning.services import groups, users
from tests.support.api import commit_and_run, preview, report, upload
from tests.support.factories import ADMIN, make_users, member_emails

HEADER = "email,username,first_name,last_name,role,language,department"


def _user(rt, tenant_id, email):
    return next(u for u in users.list_users(rt, tenant_id, q=email).items if u.email.lower() == email.lower())


def test_missing_users_are_created_invited_and_existing_ones_updated(client, tenant, rt, run_jobs):
    make_users(rt, tenant.id, "ada@example.com", given_name="Ada", department="Maths")
    body = preview(
        client,
        tenant,
        f"{HEADER}\nada@example.com,,,Lovelace,manager,,\nNew.Person@Example.com,newbie,New,Person,,fr,Physics\n",
    )
    assert body["format"] == "users" and body["users_new"] == 1 and body["users_matched"] == 1
    assert users.list_users(rt, tenant.id).total == 1
    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.status == "succeeded" and op.result["users_created"] == 1 and op.result["users_updated"] == 1
    ada = _user(rt, tenant.id, "ada@example.com")
    assert (ada.given_name, ada.family_name, ada.role, ada.department) == ("Ada", "Lovelace", "manager", "Maths")
    new = _user(rt, tenant.id, "new.person@example.com")
    assert (new.email, new.username, new.status, new.language, new.department, new.role) == (
        "New.Person@Example.com",
        "newbie",
        "invited",
        "fr",
        "Physics",
        "learner",
    )
    assert {e.action for e in activity.list_events(rt, tenant.id, channel="job").items} >= {
        "user.created",
        "user.updated",
    }


def test_reimporting_the_same_users_changes_nothing(client, tenant, rt, run_jobs):
    content = f"{HEADER}\nada@example.com,ada,Ada,Lovelace,learner,en,Maths\n"
    commit_and_run(client, tenant, run_jobs, rt, preview(client, tenant, content)["id"])
    version = _user(rt, tenant.id, "ada@example.com").version
    body = preview(client, tenant, content)
    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.result["skipped"] == 1 and op.result["users_updated"] == 0
    assert _user(rt, tenant.id, "ada@example.com").version == version
    assert report(client, tenant, body["id"])[0][1] == "skipped"


def test_unknown_headers_are_reported_unless_mapped(client, tenant, rt, run_jobs):
    content = "email,Office,Shoe size\nada@example.com,Paris,42\n"
    r = upload(client, tenant, content, format="users")
    assert r.status_code == 400 and "'Office'" in r.json["message"] and "'Shoe size'" in r.json["message"]
    body = preview(
        client,
        tenant,
        content,
        format="users",
        column_mapping=json.dumps({"Office": "custom.location", "Shoe size": None}),
    )
    assert body["errors"] == [] and any("Shoe size" in w for w in body["warnings"])
    commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert _user(rt, tenant.id, "ada@example.com").custom_attributes == {"location": "Paris"}
    r = upload(client, tenant, content, format="users", column_mapping="{not json")
    assert r.status_code == 400 and "column_mapping" in r.json["errors"]


def test_bad_roles_and_taken_usernames_are_row_errors(client, tenant, rt):
    make_users(rt, tenant.id, "ada@example.com", username="ada")
    body = preview(client, tenant, f"{HEADER}\nbob@example.com,ada,Bob,B,learner,,\ncy@example.com,cy,Cy,C,boss,,\n")
    assert sorted((e["row"], e["column"]) for e in body["errors"]) == [(2, "username"), (3, "role")]


def test_the_seat_limit_refuses_a_commit_that_would_exceed_it(client, make_tenant, rt, run_jobs):
    tenant = make_tenant("Small school", seat_limit=2)
    make_users(rt, tenant.id, "ada@example.com")
    body = preview(client, tenant, "email\nb@example.com\nc@example.com\n", format="users")
    assert any(w.startswith("Seat limit:") for w in body["warnings"])
    r = client.post(f"/api/v1/imports/{body['id']}/commit", headers=tenant.admin)
    assert r.status_code == 403 and "would create 2 users" in r.json["message"] and "1 left" in r.json["message"]
    client.patch(f"/api/v1/imports/{body['id']}", headers=tenant.admin, json={"exclude_rows": [3]})
    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.result["users_created"] == 1 and users.list_users(rt, tenant.id).total == 2


def test_users_an_import_changes_are_re_evaluated_for_automatic_groups(client, tenant, rt, run_jobs):
    make_users(rt, tenant.id, "ada@example.com", department="Maths")
    auto = groups.create_group(
        rt, tenant.id, {"name": "Physicists", "kind": "automatic", "rule": 'department eq "Physics"'}, ADMIN
    )
    run_jobs()  # the rule's first evaluation
    body = preview(client, tenant, "email,department\nada@example.com,Physics\nnew@example.com,Physics\n")
    commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert member_emails(rt, tenant.id, auto.id) == {"ada@example.com", "new@example.com"}


def test_two_new_users_with_one_username_the_preview_flags_the_second_and_the_first_is_created(
    client, tenant, rt, run_jobs
):
    body = preview(
        client, tenant, "email,username\nada@example.com,ada\nother@example.com,\uff21DA\n", filename="u.csv"
    )
    # One username (by its identity key: case, normal form and width aside) for two users: the later row.
    assert [(e["row"], e["message"]) for e in body["errors"]] == [(3, "Duplicate: this username is already on row 2.")]
    op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert op.status == "succeeded", op.errors
    assert (op.result["users_created"], op.result["applied"]) == (1, 1)
    rows = report(client, tenant, body["id"])
    assert [(r[0], r[1]) for r in rows] == [("2", "applied"), ("3", "error")]
    assert [u.email for u in users.list_users(rt, tenant.id).items] == ["ada@example.com"]
