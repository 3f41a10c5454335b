"""Map your headers (issue 16; the groups article's step 6): a file with its own column names is previewed and
committed from the UI once its columns are named, with the same column_mapping the admin API takes."""

from __future__ import annotations

import html
import io
import re

import pytest

from provisioning.activity import Actor
from provisioning.services import groups, users
from tests.support import api

ACTOR = Actor("test", "api")
GERMAN = b"E-Mail Adresse;Vorname\nada@example.edu;Ada\nben@example.edu;Benedikt\n"


@pytest.fixture
def team(rt, tenant):
    for name in ("ada", "ben"):
        users.create_user(rt, tenant.id, {"email": f"{name}@example.edu", "given_name": name.title()}, ACTOR)
    return groups.create_group(rt, tenant.id, {"name": "Team Alpha"}, ACTOR)


def _upload(session, content: bytes, **fields):
    return session.post(
        "/ui/imports/new", {"file": (io.BytesIO(content), "leute.csv"), **fields}, content_type="multipart/form-data"
    )


def _form(page: str) -> dict[str, str]:
    """The columns form's hidden fields, as the browser sends them back."""
    form = re.search(r'<form[^>]*id="columns-form".*?</form>', page, re.S).group(0)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    fields.pop("csrf", None)
    return {k: html.unescape(v) for k, v in fields.items()}


def test_a_file_with_its_own_column_names_is_mapped_in_the_ui_then_committed(client, owner, tenant, team, run_jobs):
    shown = _upload(owner, GERMAN, kind="group", group_id=str(team.id))
    page = html.unescape(shown.get_data(as_text=True))
    assert shown.status_code == 400 and "Say what each column holds" in page
    # Each column with its header as written, a few of its values, and the fields a member list takes, in words.
    assert "Column “E-Mail Adresse”" in page and "For example: ada@example.edu, ben@example.edu" in page
    assert "For example: Ada, Benedikt" in page
    assert ">Email address</option>" in page and ">First name</option>" in page
    assert ">Department</option>" not in page and "given_name</option>" not in page

    mapped = owner.post("/ui/imports/columns", {**_form(page), "column-0": "email", "column-1": "given_name"})
    assert mapped.status_code == 302, mapped.get_data(as_text=True)
    import_id = int(re.search(r"/ui/imports/(\d+)", mapped.headers["Location"]).group(1))
    assert owner.post(f"/ui/imports/{import_id}/commit").status_code == 302
    run_jobs()

    members = client.get(f"/api/v1/groups/{team.id}/members", headers=tenant.admin).json["items"]
    assert sorted((m["email"], m["first_name"]) for m in members) == [
        ("ada@example.edu", "Ada"),
        ("ben@example.edu", "Benedikt"),
    ]


def test_without_an_email_column_the_page_says_what_to_choose_and_nothing_is_imported(client, owner, tenant, team):
    page = html.unescape(_upload(owner, GERMAN, kind="group", group_id=str(team.id)).get_data(as_text=True))
    refused = owner.post("/ui/imports/columns", {**_form(page), "column-0": "", "column-1": "given_name"})
    text = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400 and "Choose which column holds the email address." in text
    assert 'value="given_name" selected' in text  # the choices made are kept
    assert client.get("/api/v1/imports", headers=tenant.admin).json["total"] == 0


def test_a_field_offered_to_another_kind_of_file_is_refused(owner, team):
    page = html.unescape(_upload(owner, GERMAN, kind="group", group_id=str(team.id)).get_data(as_text=True))
    refused = owner.post("/ui/imports/columns", {**_form(page), "column-0": "email", "column-1": "department"})
    assert refused.status_code == 400
    assert "Column “Vorname”: choose one of the fields in its list." in html.unescape(refused.get_data(as_text=True))


def test_a_people_file_maps_any_user_field_and_the_step_can_be_asked_for(client, owner, tenant):
    content = b"Mail;Abteilung;Nachname\ncy@example.edu;Forschung;Curie\n"
    page = html.unescape(_upload(owner, content, kind="users", map_columns="1").get_data(as_text=True))
    assert ">Department</option>" in page and ">Username</option>" in page
    assert 'value="email" selected' in page  # "Mail" is a name we know: chosen already
    mapped = owner.post(
        "/ui/imports/columns", {**_form(page), "column-0": "email", "column-1": "department", "column-2": "family_name"}
    )
    assert mapped.status_code == 302, mapped.get_data(as_text=True)
    import_id = int(re.search(r"/ui/imports/(\d+)", mapped.headers["Location"]).group(1))
    people = client.get(f"/api/v1/imports/{import_id}/people", headers=tenant.admin).json["items"]
    assert [(p["email"], p["department"], p["last_name"]) for p in people] == [("cy@example.edu", "Forschung", "Curie")]


def test_the_api_takes_the_same_mapping_for_a_member_list(client, tenant, team):
    mapping = '{"E-Mail Adresse": "email", "Vorname": "given_name"}'
    r = api.upload(client, tenant, GERMAN, format="members", group_id=team.id, column_mapping=mapping)
    assert r.status_code == 201, r.json
    assert r.json["rows"] == 2 and r.json["error_count"] == 0


def test_with_format_auto_the_format_is_detected_from_the_mapped_header(client, tenant, team):
    content = b"Mail;Gruppe\nada@example.edu;Night Class\n"
    r = api.upload(client, tenant, content, column_mapping='{"Mail": "email", "Gruppe": "group"}')
    assert r.status_code == 201, r.json
    assert r.json["format"] == "user-groups" and [g["name"] for g in r.json["groups"]] == ["Night Class"]


def test_a_mapping_to_a_field_the_format_does_not_take_is_a_400_naming_the_column(client, tenant, team):
    mapping = '{"E-Mail Adresse": "email", "Vorname": "shoe_size"}'
    r = api.upload(client, tenant, GERMAN, format="members", group_id=team.id, column_mapping=mapping)
    assert r.status_code == 400
    assert "'Vorname'" in r.json["message"] and "'shoe_size'" in r.json["message"]
