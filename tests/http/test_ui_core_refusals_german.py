"""The core's refusals and stored results in the page's language (issue 16): a form refused by the core, an
upload's row errors and notes, a batch action's per-person failures, for a German-speaking tenant.
The admin API says the same refusals in English, word for word as before."""

from __future__ import annotations

import html
import io
import re

from provisioning.activity import Actor
from provisioning.batch import actions as batch_actions
from provisioning.models import Tenant
from provisioning.services import groups, users
from tests.support.personas import school
from tests.support.signin import launch_as, sign_in

ACTOR = Actor("test", "api")
SETTINGS_FORM = {
    "join_url": "https://lms.example.edu/login",
    "password_reset_url": "",
    "sender_name": "Schule",
    "default_language": "de",
    "manager_permissions_sent": "1",
    "manager_permissions": ["view_users"],
    "admin_roles_sent": "1",
    "admin_roles": ["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"],
    "admin_roles_other": "",
}


def _speak(rt, tenant_id: int, language: str) -> None:
    with rt.db.transaction() as s:
        tenant = s.get(Tenant, tenant_id)
        tenant.settings = {**(tenant.settings or {}), "default_language": language}


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _upload(session, content: bytes):
    return session.post(
        "/ui/imports/new", {"file": (io.BytesIO(content), "file.csv")}, content_type="multipart/form-data"
    )


def test_a_group_name_taken_is_refused_beside_the_field_in_german_with_the_name_escaped(owner, rt, tenant):
    _speak(rt, tenant.id, "de")
    groups.create_group(rt, tenant.id, {"name": "Biologie <b>1</b>"}, ACTOR)
    page = owner.post("/ui/groups/new", {"name": "Biologie <b>1</b>", "kind": "manual"})
    raw = page.get_data(as_text=True)
    text = html.unescape(raw)
    assert page.status_code == 400 and 'id="name-error"' in raw
    assert "Eine Gruppe namens 'Biologie <b>1</b>' existiert bereits." in text
    assert "already exists" not in text and "A group named" not in text
    assert "<b>1</b>" not in raw and "&lt;b&gt;1&lt;/b&gt;" in raw  # the value is text, never markup


def test_a_refused_page_says_the_permission_refusal_in_german(app, client, rt, tenant):
    _speak(rt, tenant.id, "de")
    learner = users.create_user(rt, tenant.id, {"email": "lea@example.edu", "role": "learner"}, ACTOR)
    session = launch_as(client, app, tenant.id, learner.id, "learner")
    page = session.get("/ui/people")
    text = _text(page)
    assert page.status_code == 403
    assert "Sie haben keinen Zugriff auf die Liste der Personen." in text
    assert "You don't have access" not in text


def test_an_uploads_row_errors_are_in_german_and_the_api_keeps_english(owner, client, rt, tenant):
    _speak(rt, tenant.id, "de")
    users.create_user(rt, tenant.id, {"email": "ada@example.edu"}, ACTOR)
    groups.create_group(rt, tenant.id, {"name": "Team Alpha"}, ACTOR)
    content = b"email,Groupname\nnot-an-email,Team Alpha\nada@example.edu,Team Alpha\nada@example.edu,Team Alpha\n"
    response = _upload(owner, content)
    assert response.status_code == 302, _text(response)
    imp = int(re.search(r"/ui/imports/(\d+)", response.headers["Location"]).group(1))
    page = _text(owner.get(f"/ui/imports/{imp}"))
    errors = re.search(r'id="import-errors">(.*?)</table>', page, re.S).group(1)
    assert "'not-an-email' ist keine E-Mail-Adresse." in errors
    # Made in SQL from a template and the first row's number, and said again with its parts in German.
    assert re.search(r"Doppelt: diese Person(?: und diese Gruppe)? steht bereits in Zeile 3\.", errors), errors
    assert "is not an email address" not in errors and "Duplicate" not in errors and "already on row" not in errors
    # The admin API reads the same rows in English, as it always has.
    listed = client.get(f"/api/v1/imports/{imp}/errors", headers=tenant.admin)
    messages = [e["message"] for e in listed.json["items"]]
    assert "'not-an-email' is not an email address." in messages
    assert any(re.fullmatch(r"Duplicate: this user(?: and group)? is already on row 3\.", m) for m in messages)


def test_an_upload_with_a_column_nobody_knows_asks_in_german_what_each_column_holds(owner, rt, tenant):
    """A header with a column no layout has was refused with a reason quoting another; since "Map your headers"
    (the groups article) it opens the page that asks what each column holds, in the reader's language."""
    _speak(rt, tenant.id, "de")
    page = _upload(owner, b"email,Groupname,Shoe size\nada@example.edu,Team Alpha,42\n")
    text = _text(page)
    assert "Geben Sie an, was jede Spalte enthält" in text and "Shoe size" in text
    for english in ("Say what each column holds", "is not part of", "Expected a header row", "No header row"):
        assert english not in text


def test_a_batch_actions_failures_are_listed_in_german(owner, rt, make_tenant, run_jobs):
    small = make_tenant("Klein", seat_limit=1)
    _speak(rt, small.id, "de")
    ann = users.create_user(rt, small.id, {"email": "ann@example.edu"}, ACTOR)
    batch_actions.request_batch_action(rt, small.id, "deactivate", {}, ACTOR, user_ids=[ann.id])
    run_jobs()
    users.create_user(rt, small.id, {"email": "bob@example.edu"}, ACTOR)  # takes the only seat
    op = batch_actions.request_batch_action(rt, small.id, "reactivate", {}, ACTOR, user_ids=[ann.id])
    run_jobs()
    page = _text(sign_in(owner.client, rt, small.id).get(f"/ui/operations/{op.id}"))
    failures = re.search(r'<ul class="errors mb-0">(.*?)</ul>', page, re.S).group(1)
    assert "Die Platzgrenze des Mandanten von 1 Personen ist erreicht." in failures
    assert "seat limit" not in page.lower()


def test_a_settings_value_refused_by_the_core_is_explained_beside_its_field_in_german(
    rt, app, client, tenant, platform
):
    _speak(rt, tenant.id, "de")
    admin = school(rt, app, client, tenant, platform).admin
    form = {**SETTINGS_FORM, "join_url": "lms.example.edu", "admin_roles_other": "Instructor"}
    page = _text(admin.session.post("/ui/settings", form))
    assert 'id="join_url-error">Muss eine http(s)-URL sein, etwa https://lms.example.edu/login.' in page
    assert "'Instructor' ist keine System- oder Institutionsrolle" in page
    assert "Must be an http(s) URL" not in page and "course roles never make a tenant admin" not in page
