"""Issue 16, small wording: custom fields by their label (the tenant's declared one, else the key in words),
a learner's task status in their language, and the action log's bulk action types in plain words."""

from __future__ import annotations

import re

from provisioning.batch import actions as batch_actions
from provisioning.batch.registry import ACTIONS
from provisioning.models import Tenant
from provisioning.rules import editing
from provisioning.services import users
from tests.support.personas import SETUP, school


def _settings(rt, tenant_id: int, **values) -> None:
    with rt.db.transaction() as s:
        tenant = s.get_one(Tenant, tenant_id)
        tenant.settings = {**(tenant.settings or {}), **values}


def _label_for(page: str, field: str) -> str:
    found = re.search(rf'<label class="form-label" for="f-custom-{field}">([^<]*)</label>', page)
    assert found, field
    return found.group(1)


def test_custom_fields_show_the_declared_label_else_their_key_in_words(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    _settings(rt, tenant.id, custom_attributes=[{"name": "costCode", "type": "string", "label": "Cost centre code"}])
    users.update_user(
        rt, tenant.id, sch.kim.id, {"custom_attributes": {"startDate": "2024-09-01", "costCode": "CC-7"}}, SETUP
    )
    admin = sch.admin.session
    page = admin.get(f"/ui/people/{sch.kim.id}").get_data(as_text=True)
    assert '<dt>Start date</dt><dd data-field="startDate">2024-09-01</dd>' in page
    assert '<dt>Cost centre code</dt><dd data-field="costCode">CC-7</dd>' in page
    assert "<dt>startDate</dt>" not in page and "<dt>costCode</dt>" not in page
    form = admin.get(f"/ui/people/{sch.kim.id}/edit").get_data(as_text=True)
    assert _label_for(form, "startDate") == "Start date" and _label_for(form, "costCode") == "Cost centre code"
    refused = admin.post(f"/ui/people/{sch.kim.id}/edit", {"custom.startDate": "x" * 501}).get_data(as_text=True)
    assert re.search(r'<a href="#f-custom-startDate">Start date</a>', refused)
    builder = {f.name: f.label for f in editing.builder_fields(rt, tenant.id)["fields"]}
    assert builder["costCode"] == "Cost centre code" and builder["startDate"] == "Start date"


def test_a_label_declared_in_the_object_form_of_the_setting_is_used_too(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    _settings(rt, tenant.id, custom_attributes={"hireDate": {"type": "date", "label": "Joined on"}, "grade": "string"})
    users.update_user(rt, tenant.id, sch.kim.id, {"custom_attributes": {"hireDate": "2020-01-02"}}, SETUP)
    page = sch.admin.session.get(f"/ui/people/{sch.kim.id}").get_data(as_text=True)
    assert '<dt>Joined on</dt><dd data-field="hireDate">' in page and '<dt>Grade</dt><dd data-field="grade">' in page


def test_the_learner_page_shows_a_task_status_in_the_learners_language(rt, app, client, tenant, platform, run_jobs):
    sch = school(rt, app, client, tenant, platform)
    batch_actions.request_batch_action(
        rt, tenant.id, "add_task", {"title": "Essay"}, SETUP, user_ids=[sch.learner.user_id]
    )
    run_jobs()
    tasks = re.search(
        r'<ul[^>]*id="my-tasks">(.*?)</ul>', sch.learner.session.get("/ui/me").get_data(as_text=True), re.S
    )
    assert "Essay · open" in tasks.group(1)
    users.update_user(rt, tenant.id, sch.learner.user_id, {"language": "de"}, SETUP)
    german = re.search(
        r'<ul[^>]*id="my-tasks">(.*?)</ul>', sch.learner.session.get("/ui/me").get_data(as_text=True), re.S
    )
    assert "Essay · offen" in german.group(1) and "· open" not in german.group(1)


def test_the_action_logs_bulk_action_types_read_as_plain_words(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    page = sch.admin.session.get("/ui/logs").get_data(as_text=True)
    select = re.search(r'<select class="form-select" id="f-action" name="action">(.*?)</select>', page, re.S).group(1)
    options = dict(re.findall(r'<option value="(\w+)" >([^<]*)</option>', select))
    assert set(options) == set(ACTIONS)
    assert options["add_task"] == "Add a task to users" and options["reactivate"] == "Reactivate users"
    assert options["share"] == "Share users with a manager"
    assert not [words for words in options.values() if "(" in words or "_" in words]
