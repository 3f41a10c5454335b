"""The admins' automatic notifications page (/ui/settings/notifications, issue 17 #3): each trigger in words with
its switch, a trigger's texts per language edited, previewed and reset through the same core services as
/api/v1/notification-triggers, refusals beside the field they name with the position, admins only, CSRF."""

from __future__ import annotations

import re

from provisioning.services import tenant_settings
from tests.support.factories import make_user
from tests.support.personas import SETUP, school
from tests.support.signin import sign_in

LIST = "/ui/settings/notifications"
GROUP_ADDED = f"{LIST}/group_added"


def _trigger(client, tenant, trigger="group_added"):
    r = client.get(f"/api/v1/notification-triggers/{trigger}", headers=tenant.admin)
    assert r.status_code == 200, r.json
    return r.json


def _emails(client, tenant, **query):
    r = client.get("/api/v1/emails", query_string={"per_page": 500, **query}, headers=tenant.admin)
    assert r.status_code == 200, r.json
    return r.json["items"]


def _group(client, tenant, name="Sales team"):
    r = client.post("/api/v1/groups", json={"name": name}, headers=tenant.admin)
    assert r.status_code == 201, r.json
    return r.json["id"]


def _add_on_the_group_page(ui, group_id, email):
    """Add a member the way an admin does, from the group's page."""
    r = ui.post(f"/ui/groups/{group_id}/members", {"email": email})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_the_settings_lead_to_the_list_of_notifications_in_words(rt, client, tenant):
    ui = sign_in(client, rt, tenant.id)
    settings = _text(ui.get("/ui/settings"))
    assert f'href="{LIST}"' in settings and "Automatic notifications" in settings
    client.patch(
        "/api/v1/notification-triggers/enrolled",
        json={"templates": {"de": {"subject": "Willkommen in {course}", "body": "Hallo {first_name}"}}},
        headers=tenant.admin,
    )
    page = _text(ui.get(LIST))
    for words in (
        "Enrolled in a course",
        "Completed a course",
        "Added to a group",
        "Invited",
        "Seat assigned",
        "When someone is added to a group: by hand, from an upload, by a batch action or by an LMS roster sync.",
        "When someone takes a seat: their account is created, or reactivated.",
    ):
        assert words in page
    assert page.count(">Off</span>") == 5 and page.count("Switch on") == 5
    enrolled = re.search(r'<tr id="trigger-enrolled".*?</tr>', page, re.S).group(0)
    assert "German (de)" in enrolled
    completed = re.search(r'<tr id="trigger-completed".*?</tr>', page, re.S).group(0)
    assert "None: the default texts" in completed
    assert f'href="{GROUP_ADDED}"' in page
    trigger_page = _text(ui.get(GROUP_ADDED))
    # Only the placeholders this trigger offers, each in words.
    assert "{group}" in trigger_page and "<dd>The group's name.</dd>" in trigger_page
    assert "<code>{course}</code>" not in trigger_page
    # The languages the service speaks, and those with a text: English, German, Spanish, French.
    assert [m for m in re.findall(r'id="lang-(\w+)"', trigger_page)] == ["en", "de", "es", "fr"]
    assert 'value="You were added to {group}"' in trigger_page
    assert ui.get(f"{LIST}/nope").status_code == 404


def test_switching_on_sends_on_the_next_event_and_switching_off_stops_it(rt, client, tenant):
    ui = sign_in(client, rt, tenant.id)
    make_user(rt, tenant.id, "ann", given_name="Ann")
    make_user(rt, tenant.id, "bob", given_name="Bob")
    make_user(rt, tenant.id, "cy", given_name="Cy")
    group_id = _group(client, tenant)
    _add_on_the_group_page(ui, group_id, "ann@example.edu")
    assert _emails(client, tenant, trigger="group_added") == []  # off: nothing

    switched = ui.post(f"{GROUP_ADDED}/switch", {"enabled": "on"})
    assert switched.status_code == 302 and "switched=group_added" in switched.headers["Location"]
    assert _trigger(client, tenant)["enabled"] is True
    page = _text(ui.get(LIST, switched="group_added"))
    assert "“Added to a group” is on: it is sent from now on" in page
    row = re.search(r'<tr id="trigger-group_added".*?</tr>', page, re.S).group(0)
    assert ">On</span>" in row and "Switch off" in row
    _add_on_the_group_page(ui, group_id, "bob@example.edu")
    sent = _emails(client, tenant, trigger="group_added")
    assert [(e["to"], e["subject"], e["trigger"]) for e in sent] == [
        ("bob@example.edu", "You were added to Sales team", "group_added")
    ]

    off = ui.post(f"{GROUP_ADDED}/switch", {"enabled": "off", "back": "page"})
    assert off.status_code == 302 and "/ui/settings/notifications/group_added" in off.headers["Location"]
    assert "“Added to a group” is off" in _text(ui.get(GROUP_ADDED, switched="1"))
    _add_on_the_group_page(ui, group_id, "cy@example.edu")
    assert len(_emails(client, tenant, trigger="group_added")) == 1
    # Something else than on or off is a refusal naming the field, and changes nothing.
    assert ui.post(f"{GROUP_ADDED}/switch", {"enabled": "maybe"}).status_code == 400
    assert _trigger(client, tenant)["enabled"] is False
    # The activity log says it in words, naming the notification with a link to its page.
    activity = _text(ui.get("/ui/activity"))
    assert "Changed an automatic notification" in activity
    assert f'<a href="{GROUP_ADDED}">the automatic notification “Added to a group”</a>' in activity


def test_a_german_text_is_used_for_the_next_email_to_a_german_speaker(rt, client, tenant):
    ui = sign_in(client, rt, tenant.id)
    ui.post(f"{GROUP_ADDED}/switch", {"enabled": "on"})
    make_user(rt, tenant.id, "jo", given_name="Jo", language="de")
    make_user(rt, tenant.id, "kim", given_name="Kim", language="en")
    group_id = _group(client, tenant, "Vertrieb")
    saved = ui.post(
        GROUP_ADDED,
        {
            "language": "de",
            "subject": "Willkommen in {group}",
            "body": "Hallo {first_name},\n\ndu bist jetzt in {group}.\n{link}",
            "do": "save",
        },
    )
    assert saved.status_code == 302 and "saved=de" in saved.headers["Location"]
    view = _trigger(client, tenant)
    assert view["customized"] == ["de"] and view["templates"]["de"]["subject"] == "Willkommen in {group}"
    page = _text(ui.get(GROUP_ADDED, saved="de"))
    assert "The German (de) text was saved" in page and 'value="Willkommen in {group}"' in page
    card = re.search(r'<section class="card mb-3 notification-language" id="lang-de".*?</section>', page, re.S)
    assert "Your own text" in card.group(0) and "Reset to the default text" in card.group(0)
    assert "German (de)" in _text(ui.get(LIST))
    for email in ("jo@example.edu", "kim@example.edu"):
        _add_on_the_group_page(ui, group_id, email)
    subjects = {e["to"]: e["subject"] for e in _emails(client, tenant, trigger="group_added")}
    assert subjects == {"jo@example.edu": "Willkommen in Vertrieb", "kim@example.edu": "You were added to Vertrieb"}


def test_a_bad_placeholder_is_refused_beside_its_field_with_its_position_and_nothing_is_saved(rt, client, tenant):
    ui = sign_in(client, rt, tenant.id)
    form = {"language": "en", "subject": "Hi {frist_name}", "body": "Welcome\nto {course} {link", "do": "save"}
    r = ui.post(GROUP_ADDED, form)
    page = _text(r)
    assert r.status_code == 400
    subject_error = re.search(r'id="subject-en-error">([^<]*)<', page).group(1)
    assert subject_error == (
        "Unknown placeholder {frist_name} at position 4 (line 1, column 4); use {first_name}, {group}, {link}, {tenant}."
    )
    body_error = re.search(r'id="body-en-error">([^<]*)<', page).group(1)
    assert body_error.startswith(
        "Placeholder {course} at position 12 (line 2, column 4) is not available for the “Added to a group” trigger"
    )
    assert "Unmatched &#39;{&#39; at position 21 (line 2, column 13)" in body_error
    # A browser sends a textarea's line breaks as CRLF: the position is the same.
    crlf = _text(ui.post(GROUP_ADDED, {**form, "body": form["body"].replace("\n", "\r\n")}))
    assert re.search(r'id="body-en-error">([^<]*)<', crlf).group(1) == body_error
    assert 'aria-invalid="true" aria-describedby="body-en-error"' in page
    assert 'id="error-summary"' in page and 'href="#subject-en"' in page
    # What was typed is kept, and nothing changed.
    assert 'value="Hi {frist_name}"' in page and "Welcome\nto {course} {link</textarea>" in page
    view = _trigger(client, tenant)
    assert view["customized"] == [] and view["templates"]["en"]["subject"] == "You were added to {group}"
    # A German page says it in German, at the same place.
    tenant_settings.update_settings(rt, tenant.id, {"default_language": "de"}, SETUP)
    german = _text(ui.post(GROUP_ADDED, form))
    subject_error = re.search(r'id="subject-en-error">([^<]*)<', german).group(1)
    assert subject_error.startswith("Unbekannter Platzhalter {frist_name} an Position 4 (Zeile 1, Spalte 4)")
    assert "„Zu einer Gruppe hinzugefügt“" in re.search(r'id="body-en-error">([^<]*)<', german).group(1)


def test_reset_goes_back_to_the_default_text(rt, client, tenant):
    ui = sign_in(client, rt, tenant.id)
    for language in ("en", "de"):
        ui.post(GROUP_ADDED, {"language": language, "subject": "Own {group}", "body": "Own body", "do": "save"})
    assert _trigger(client, tenant)["customized"] == ["de", "en"]
    r = ui.post(GROUP_ADDED, {"language": "en", "subject": "ignored", "body": "ignored", "do": "reset"})
    assert r.status_code == 302 and "reset=en" in r.headers["Location"]
    view = _trigger(client, tenant)
    assert view["customized"] == ["de"] and view["templates"]["en"]["subject"] == "You were added to {group}"
    page = _text(ui.get(GROUP_ADDED, reset="en"))
    assert "The English (en) text is the default one again." in page
    assert 'id="reset-en"' not in page and 'id="reset-de"' in page
    # German has no default text of its own: resetting it removes it, and German speakers get English.
    ui.post(GROUP_ADDED, {"language": "de", "do": "reset"})
    assert _trigger(client, tenant)["customized"] == []
    page = _text(ui.get(GROUP_ADDED, reset="de"))
    assert "The German (de) text was removed: people who speak it get the English text." in page


def test_a_preview_shows_the_email_with_sample_names_and_saves_nothing(rt, client, tenant):
    ui = sign_in(client, rt, tenant.id)
    typed = {"language": "en", "subject": "Hello {first_name}: {group}", "body": "You joined {group} at {tenant}."}
    r = ui.post(f"{GROUP_ADDED}/preview", typed)
    page = _text(r)
    assert r.status_code == 200 and "<html" in page
    preview = re.search(r'id="preview-en".*?</div>', page, re.S).group(0)
    assert "Hello Ann: Sales team" in preview and "You joined Sales team at Acme University." in preview
    assert 'value="Hello {first_name}: {group}"' in page  # the form keeps what was typed
    assert _trigger(client, tenant)["customized"] == []
    # The same button with htmx: only the language's card comes back, in place.
    htmx = ui.client.post(
        f"{GROUP_ADDED}/preview",
        data={**typed, "lt": ui.token},
        headers={"HX-Request": "true", "X-CSRF-Token": ui.csrf()},
    )
    card = _text(htmx)
    assert htmx.status_code == 200 and "<html" not in card and card.lstrip().startswith("<section")
    assert 'id="lang-en"' in card and "Hello Ann: Sales team" in card
    # Without anything typed: the saved text (German has none: the English default).
    saved = _text(ui.post(f"{GROUP_ADDED}/preview", {"language": "de"}))
    assert "You were added to Sales team" in re.search(r'id="preview-de".*?</div>', saved, re.S).group(0)
    # A preview with a bad placeholder: the error beside its field (htmx: in the card it swaps in).
    bad = {**typed, "body": "{course}"}
    refused = ui.post(f"{GROUP_ADDED}/preview", bad)
    assert refused.status_code == 400 and 'id="body-en-error">Placeholder {course} at position 1' in _text(refused)
    htmx_bad = ui.client.post(
        f"{GROUP_ADDED}/preview",
        data={**bad, "lt": ui.token},
        headers={"HX-Request": "true", "X-CSRF-Token": ui.csrf()},
    )
    assert htmx_bad.status_code == 200 and 'id="body-en-error"' in _text(htmx_bad)
    # The Preview button works without script too: the form's own action with do=preview.
    fallback = ui.post(GROUP_ADDED, {**typed, "do": "preview"})
    assert fallback.status_code == 200 and "Hello Ann: Sales team" in _text(fallback)
    assert _trigger(client, tenant)["customized"] == []


def test_another_language_gets_a_card_and_a_bad_code_is_refused_beside_the_field(rt, client, tenant):
    ui = sign_in(client, rt, tenant.id)
    page = _text(ui.get(GROUP_ADDED, add="it"))
    assert 'id="lang-it"' in page and "Italian (it)" in page and "No text yet" in page
    refused = ui.get(GROUP_ADDED, add="Italian")
    assert refused.status_code == 400 and 'id="add-error">Type a language code of 2 or 3 letters' in _text(refused)
    ui.post(GROUP_ADDED, {"language": "it", "subject": "Benvenuto in {group}", "body": "Ciao", "do": "save"})
    assert "it" in _trigger(client, tenant)["customized"]
    assert 'id="lang-it"' in _text(ui.get(GROUP_ADDED))


def test_group_managers_and_learners_get_403_and_no_link(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    form = {"language": "en", "subject": "Hijacked {group}", "body": "x", "do": "save"}
    for persona in (sch.learner, sch.manager_own, sch.manager_other, sch.curator, sch.reporter):
        s = persona.session
        assert s.get(LIST).status_code == 403
        assert s.get(GROUP_ADDED).status_code == 403
        assert s.post(f"{GROUP_ADDED}/switch", {"enabled": "on"}).status_code == 403
        assert s.post(GROUP_ADDED, form).status_code == 403
        assert s.post(f"{GROUP_ADDED}/preview", form).status_code == 403
        assert "/ui/settings/notifications" not in _text(s.get("/ui/me"))
    view = _trigger(client, tenant)
    assert view["enabled"] is False and view["customized"] == []
    assert sch.admin.session.get(LIST).status_code == 200
    assert f'href="{LIST}"' in _text(sch.admin.session.get("/ui/settings"))


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(rt, client, tenant):
    ui = sign_in(client, rt, tenant.id)
    for path, form in (
        (f"{GROUP_ADDED}/switch", {"enabled": "on"}),
        (GROUP_ADDED, {"language": "en", "subject": "Forged {group}", "body": "x", "do": "save"}),
    ):
        r = client.post(path, data={"lt": ui.token, **form})
        assert r.status_code == 403 and "security token" in _text(r)
        r = client.post(path, data={"lt": ui.token, "csrf": "0" * 64, **form})
        assert r.status_code == 403
    view = _trigger(client, tenant)
    assert view["enabled"] is False and view["customized"] == []
