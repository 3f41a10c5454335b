"""Batch actions from the people list and a group's members with proper pickers: a manager by name for Share,
languages and roles in words, groups by name; the confirmation names how many and who; nothing by default."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from provisioning import permissions
from provisioning.services import memberships, users
from tests.support.personas import SETUP, school


def _picker(page: str, name: str) -> list[tuple[str, str]]:
    select = re.search(
        rf'<select class="form-select" id="param-[a-z_]+-{name}" name="{name}"[^>]*>(.*?)</select>', page, re.S
    )
    assert select, name
    return re.findall(r'<option value="(\w*)"[^>]*>([^<]+)</option>', select.group(1))


def suggested(session, what: str, typed: str = "", **args: str) -> list[tuple[str, str]]:
    """(id, name) of a picker's suggestions, as ui.js reads them from the fragment."""
    page = session.get(f"/ui/pick/{what}", **{"field": "q", "q": typed, **args}).get_data(as_text=True)
    return re.findall(r'role="option"[^>]*data-value="(\d+)" data-name="([^"]*)"', page)


def test_the_people_page_offers_managers_groups_languages_and_roles_by_name(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    page = sch.admin.session.get("/ui/people").get_data(as_text=True)
    for name in ("group_ids", "group_id", "manager_id"):  # pickers: a labelled combobox each
        assert re.search(rf'name="{name}_find"[^>]*role="combobox"[^>]*hx-get="/ui/pick/', page), name
    managers = dict(suggested(sch.admin.session, "managers"))
    assert managers[str(sch.manager_own.user_id)] == "Tia (tia@example.edu)"
    assert str(sch.kim.id) not in managers  # a learner is no manager
    assert dict(suggested(sch.admin.session, "managers", "tia@")) == {
        str(sch.manager_own.user_id): "Tia (tia@example.edu)"
    }
    assert ("", "Choose a language…") in _picker(page, "language") and ("es", "Spanish (es)") in _picker(
        page, "language"
    )
    assert ("manager", "Manager") in _picker(page, "role")
    assert (str(sch.group.id), "Course A seminar") in suggested(sch.admin.session, "groups", "seminar", kinds="manual")
    assert re.search(
        r'<select id="action" name="action" required class="form-select">\s*<option value="" selected>', page
    )


def test_a_manager_is_offered_only_their_own_groups(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    assert suggested(sch.manager_own.session, "groups", kinds="manual") == [(str(sch.group.id), "Course A seminar")]
    assert suggested(sch.manager_own.session, "groups", "Course B") == []
    assert suggested(sch.manager_own.session, "managers") == []  # Share is an admin's


def test_sharing_confirms_with_the_people_and_the_managers_name_then_shares(
    rt, app, client, tenant, platform, run_jobs
):
    sch = school(rt, app, client, tenant, platform)
    data = {"action": "share", "user_ids": [str(sch.kim.id)], "manager_id": str(sch.manager_other.user_id)}
    confirm = sch.admin.session.post("/ui/people/batch", data).get_data(as_text=True)
    assert "touches <strong>1</strong> user." in confirm
    assert '<ul id="confirm-examples" class="mb-1"><li>Kim</li></ul>' in confirm
    assert "<dt>Shared with</dt><dd>Tom</dd>" in confirm
    assert sch.admin.session.post("/ui/people/batch", {**data, "confirmed": "yes"}).status_code == 302
    run_jobs()
    tom = permissions.principal_for(rt, tenant.id, sch.manager_other.user_id, "manager")
    assert sch.kim.id in permissions.is_shared_with(rt, tom, [sch.kim.id])


def test_the_confirmation_names_five_people_and_counts_the_others(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    people = [
        users.create_user(rt, tenant.id, {"email": f"p{i}@example.edu", "display_name": f"Person {i}"}, SETUP)
        for i in range(7)
    ]
    data = {"action": "change_language", "user_ids": [str(p.id) for p in people], "language": "de"}
    confirm = sch.admin.session.post("/ui/people/batch", data).get_data(as_text=True)
    assert len(re.findall(r"<li>Person \d</li>", confirm)) == 5 and "and 2 more people" in confirm
    assert "<dt>New language</dt><dd>German (de)</dd>" in confirm


def test_a_missing_pick_is_named_in_words(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    for action, sentence in (
        ("share", "Choose the manager to share them with."),
        ("add_to_groups", "Choose at least one group."),
        ("change_language", "Choose a language from the list."),
        ("change_role", "Choose a role from the list."),
    ):
        response = sch.admin.session.post("/ui/people/batch", {"action": action, "user_ids": [str(sch.kim.id)]})
        text = response.get_data(as_text=True)
        assert response.status_code == 400 and sentence in text, (action, text[-800:])
        assert "_id" not in re.sub(r'name="[^"]*"|id="[^"]*"|href="[^"]*"', "", text.split("<main", 1)[1])


def test_add_to_groups_from_a_groups_members_with_the_picker(rt, app, client, tenant, platform, run_jobs):
    sch = school(rt, app, client, tenant, platform)
    page = sch.admin.session.get(f"/ui/groups/{sch.group.id}").get_data(as_text=True)
    url = re.search(r'id="param-add_to_groups-group_ids"[^>]*hx-get="([^"]+)"', page, re.S).group(1)
    offered = suggested(sch.admin.session, "groups", **dict(parse_qsl(urlsplit(url.replace("&amp;", "&")).query)))
    assert (str(sch.other_group.id), "Course B seminar") in offered and str(sch.group.id) not in dict(offered)
    data = {"action": "add_to_groups", "user_ids": [str(sch.kim.id)], "group_ids_find": "course b SEMINAR"}
    confirm = sch.admin.session.post(f"/ui/groups/{sch.group.id}/batch", data).get_data(as_text=True)
    assert "<dt>Group</dt><dd>Course B seminar</dd>" in confirm
    sch.admin.session.post(f"/ui/groups/{sch.group.id}/batch", {**data, "confirmed": "yes"})
    run_jobs()
    assert memberships.member_ids_among(rt, tenant.id, sch.other_group.id, [sch.kim.id]) == [sch.kim.id]


def test_every_batch_action_has_a_result_sentence_and_the_operation_page_shows_it(
    rt, app, client, tenant, platform, run_jobs
):
    from provisioning.batch.registry import ACTIONS
    from ui.batch_words import SENTENCES

    assert set(SENTENCES) == set(ACTIONS)
    sch = school(rt, app, client, tenant, platform)
    data = {"action": "add_task", "user_ids": [str(sch.kim.id)], "title": "Read", "confirmed": "yes"}
    started = sch.admin.session.post("/ui/people/batch", data)
    run_jobs()
    op_id = re.search(r"/ui/operations/(\d+)", started.headers["Location"]).group(1)
    page = sch.admin.session.get(f"/ui/operations/{op_id}").get_data(as_text=True)
    assert '<p id="result-sentence" class="lead">Gave 1 person the task.</p>' in page
    assert 'id="in-the-log" href="/ui/logs"' in page
    assert sch.admin.session.get(f"/ui/operations/{op_id}.json").json["sentence"] == "Gave 1 person the task."
