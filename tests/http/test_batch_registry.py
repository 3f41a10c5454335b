"""The registry of batch actions (provisioning/batch/registry.py): each action declared once, read everywhere.

The declarations themselves; the generic validation of each param kind (with the messages and
field keys API clients rely on); and what reads the registry: the job's rule follow-up, the admin
API's allowed values and documentation, and the UI's picker, labels, form fields and form parsing.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import get_args

import pytest
from flask import render_template_string

from api.batch_actions import BatchActionRequest, actions_description
from provisioning.activity import Actor
from provisioning.batch import actions as batch_actions
from provisioning.batch import steps
from provisioning.batch.params import CHECKS, LANGUAGE_TAG, Param, ParamKind
from provisioning.batch.registry import ACTIONS, BatchAction, register, validate_params
from provisioning.errors import InvalidInput
from provisioning.services import groups, users
from ui import batch as ui_batch

ACTOR = Actor("test", "api")

# The actions as the UI's picker has always listed them (the registry's order).
PICKER_ORDER = [
    "deactivate",
    "reactivate",
    "delete",
    "add_to_groups",
    "remove_from_group",
    "change_role",
    "change_language",
    "resend_invite",
    "password_reset",
    "notify",
    "add_task",
    "assign_certificate",
    "share",
    "export_csv",
]


# --- the declarations -------------------------------------------------------------------------


def test_every_action_is_declared_once_with_a_step_a_label_and_a_one_line_description():
    assert list(ACTIONS) == PICKER_ORDER
    for name, action in ACTIONS.items():
        assert action.name == name
        assert callable(action.step) and getattr(steps, action.step.__name__) is action.step
        assert action.label and action.label == action.label.strip()
        assert action.description and "\n" not in action.description and action.description.endswith(".")


def test_the_registry_refuses_an_action_or_a_param_declared_twice():
    one = BatchAction("x", "X", "Does x.", steps.deactivate)
    with pytest.raises(ValueError, match="declared twice"):
        register(one, replace(one, label="Again"))
    with pytest.raises(ValueError, match="declares a param twice"):
        register(replace(one, params=(Param("a", "text", "A"), Param("a", "date", "A"))))


def test_the_declared_params_are_the_ones_the_api_has_always_taken():
    assert {name: a.param_names for name, a in ACTIONS.items() if a.params} == {
        "add_to_groups": ("group_ids",),
        "remove_from_group": ("group_id",),
        "change_role": ("role",),
        "change_language": ("language",),
        "notify": ("subject", "body"),
        "add_task": ("title", "due_date"),
        "assign_certificate": ("name", "issued_on"),
        "share": ("manager_id",),
    }


def test_every_param_kind_has_a_check():
    assert set(CHECKS) == set(get_args(ParamKind))
    assert {p.kind for a in ACTIONS.values() for p in a.params} <= set(CHECKS)


def test_the_job_lets_rules_follow_exactly_the_actions_that_touch_rule_inputs():
    expected = {"deactivate", "reactivate", "change_role", "change_language", "add_to_groups", "remove_from_group"}
    assert batch_actions.RULE_INPUTS == expected
    assert {a.name for a in ACTIONS.values() if a.touches_rule_inputs} == expected


# --- validation, one param kind at a time ---------------------------------------------------------


@pytest.fixture
def check(rt, tenant):
    """Validate ``params`` of ``action`` for the tenant: the clean params, or the 400's field errors."""

    def run(action: str, params, tenant_id: int | None = None):
        with rt.db.transaction() as s:
            try:
                return validate_params(s, tenant_id or tenant.id, action, params)
            except InvalidInput as exc:
                assert exc.message in (f"The params of {action} are invalid.", "params must be an object.")
                return exc.details

    return run


def test_params_must_be_an_object_and_only_the_actions_own(check):
    assert check("deactivate", ["x"]) == {"params": ["Must be an object."]}
    assert check("deactivate", {"role": "admin"}) == {"params.role": ["Not a parameter of deactivate."]}
    assert check("deactivate", {}) == {}


def test_a_text_is_required_non_empty_within_its_limit_and_kept_stripped(check):
    assert check("add_task", {"title": "  Read  "}) == {"title": "Read", "due_date": None}
    assert check("add_task", {}) == {"params.title": ["Required: a non-empty text."]}
    assert check("add_task", {"title": "   "}) == {"params.title": ["Required: a non-empty text."]}
    assert check("add_task", {"title": 7}) == {"params.title": ["Required: a non-empty text."]}
    assert check("add_task", {"title": "x" * 401}) == {"params.title": ["At most 400 characters."]}
    assert check("notify", {"subject": "Hi", "body": "b" * 20001}) == {"params.body": ["At most 20000 characters."]}
    assert check("notify", {"subject": "Hi", "body": "b" * 20000})["body"] == "b" * 20000


def test_a_date_is_yyyy_mm_dd_and_may_be_optional(check):
    assert check("add_task", {"title": "T", "due_date": "2026-02-28"})["due_date"] == "2026-02-28"
    assert check("add_task", {"title": "T", "due_date": ""})["due_date"] is None
    assert check("add_task", {"title": "T", "due_date": "2026-02-30"}) == {
        "params.due_date": ["Must be a date as YYYY-MM-DD."]
    }
    assert check("assign_certificate", {"name": "C"}) == {"params.issued_on": ["Must be a date as YYYY-MM-DD."]}
    assert check("assign_certificate", {"name": "C", "issued_on": "2026-01-05"}) == {
        "name": "C",
        "issued_on": "2026-01-05",
    }


def test_a_group_is_the_id_of_a_hand_edited_group_of_the_tenant(rt, tenant, other_tenant, check):
    manual = groups.create_group(rt, tenant.id, {"name": "Team"}, ACTOR)
    auto = groups.create_group(rt, tenant.id, {"name": "Auto", "kind": "automatic", "rule": 'department eq "x"'}, ACTOR)
    theirs = groups.create_group(rt, other_tenant.id, {"name": "Theirs"}, ACTOR)
    assert check("remove_from_group", {"group_id": manual.id}) == {"group_id": manual.id}
    for bad in (None, "1", True, 1.0):
        assert check("remove_from_group", {"group_id": bad}) == {"params.group_id": ["Required: an integer id."]}
    assert check("remove_from_group", {"group_id": theirs.id}) == {
        "params.group_id": [f"No group with id {theirs.id}."]
    }
    refused = check("remove_from_group", {"group_id": auto.id})["params.group_id"]
    assert len(refused) == 1 and refused[0].startswith("Group 'Auto' is automatic")


def test_groups_are_a_non_empty_list_of_hand_edited_group_ids_kept_sorted_once(rt, tenant, check):
    a = groups.create_group(rt, tenant.id, {"name": "A"}, ACTOR)
    b = groups.create_group(rt, tenant.id, {"name": "B"}, ACTOR)
    assert check("add_to_groups", {"group_ids": [b.id, a.id, b.id]}) == {"group_ids": sorted([a.id, b.id])}
    for bad in (None, [], a.id, [str(a.id)], [True]):
        assert check("add_to_groups", {"group_ids": bad}) == {
            "params.group_ids": ["Required: a non-empty list of group ids."]
        }
    assert check("add_to_groups", {"group_ids": [a.id, 999_998, 999_999]}) == {
        "params.group_ids": ["No group with id 999998.", "No group with id 999999."]
    }


def test_a_role_is_one_of_the_tenants_roles(check):
    assert check("change_role", {"role": "manager"}) == {"role": "manager"}
    assert check("change_role", {"role": "Report viewer"}) == {"role": "reporter"}
    assert check("change_role", {"role": "boss"}) == {
        "params.role": [
            "There is no role 'boss' in this tenant; its roles are: learner, curator, manager, reporter, admin."
        ]
    }
    assert check("change_role", {}) == {
        "params.role": ["Required: one of this tenant's roles: learner, curator, manager, reporter, admin."]
    }


def test_a_language_is_a_language_tag(check):
    assert LANGUAGE_TAG.match("zh-Hant-TW")
    assert check("change_language", {"language": "pt-BR"}) == {"language": "pt-BR"}
    for bad in ("pt_BR", "", None, 3):
        assert check("change_language", {"language": bad}) == {
            "params.language": ["Must be a language tag such as en or pt-BR."]
        }


def test_a_manager_is_an_active_user_who_may_manage_groups(rt, tenant, check):
    boss = users.create_user(rt, tenant.id, {"email": "boss@example.edu", "role": "manager"}, ACTOR)
    learner = users.create_user(rt, tenant.id, {"email": "lee@example.edu"}, ACTOR)
    assert check("share", {"manager_id": boss.id}) == {"manager_id": boss.id}
    assert check("share", {"manager_id": "x"}) == {"params.manager_id": ["Required: an integer id."]}
    assert check("share", {"manager_id": 999_999}) == {"params.manager_id": ["No user with id 999999."]}
    assert check("share", {"manager_id": learner.id}) == {
        "params.manager_id": ["Must be an active user with the role manager or admin, or an instructor of a course."]
    }


def test_an_action_sending_links_needs_the_tenants_link(make_tenant, check):
    linked = make_tenant("Linked", settings={"join_url": "https://lms.example.edu/join"})
    assert check("resend_invite", {}, linked.id) == {}
    assert list(check("password_reset", {}, linked.id)) == ["tenant.settings.password_reset_url"]
    assert list(check("resend_invite", {"x": 1})) == ["params.x", "tenant.settings.join_url"]


# --- the admin API reads it -----------------------------------------------------------------------


def test_the_api_accepts_exactly_the_registered_actions():
    assert BatchActionRequest().fields["action"].validate.choices == sorted(ACTIONS)


def test_the_api_documents_every_action_with_its_params(client, tenant):
    text = actions_description()
    assert text.startswith("Actions and params: ") and all(len(line) <= 92 for line in text.splitlines())
    flat = " ".join(text.splitlines())
    for action in ACTIONS.values():
        entry = action.name + (" {" + ", ".join(action.param_names) + "}" if action.params else "")
        assert re.search(rf"(^|[ ,]){re.escape(entry)}[,. ]", flat), entry
    spec = client.get("/api/v1/openapi.json").json
    assert spec["paths"]["/api/v1/batch-actions"]["post"]["description"] == text


# --- the UI reads it -----------------------------------------------------------------------------


def test_the_ui_labels_and_admin_only_actions_come_from_the_registry():
    assert ui_batch.LABELS == {a.name: a.label for a in ACTIONS.values()}
    assert ui_batch.ADMIN_ONLY == {"delete", "change_role", "share"}
    assert ui_batch.param_fields() == [(a.name, p) for a in ACTIONS.values() for p in a.params]


def test_the_people_page_offers_the_registrys_actions_in_order_with_their_fields(owner, rt, tenant):  # noqa: F811
    users.create_user(rt, tenant.id, {"email": "pat@example.edu"}, Actor("test", "api"))
    page = owner.get("/ui/people").get_data(as_text=True)
    picker = re.search(r'<select id="action" name="action"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert '<option value="" selected>' in picker  # nothing is chosen by default (issue 19, defect 5)
    assert re.findall(r'<option value="([a-z_]+)">', picker) == PICKER_ORDER
    for action in ACTIONS.values():
        assert f'<option value="{action.name}">{action.label}</option>' in picker
    # One control per param, in the registry's order; a picker (ui/_picker.html) sends what is typed as <name>_find.
    controls = re.findall(
        r'<(?:input|select|textarea)\b[^>]*\bid="param-([a-z_]+)-[a-z_]+"[^>]*\bname="([a-z_]+)"', page
    )
    fields = [(a, name.removesuffix("_find")) for a, name in controls]
    assert fields == [(a, p.name) for a, p in ui_batch.param_fields()]
    assert re.search(r'<label class="form-label" for="param-share-manager_id">Manager</label>', page)


def test_a_params_kind_decides_its_form_field(app):
    fields = [
        ("x", Param("when", "date", "When")),
        ("x", Param("note", "long_text", "Note")),
        ("x", Param("code", "text", "Code", hint="AB-1")),
        ("x", Param("role", "role", "Role")),
        ("x", Param("manager_id", "manager", "Whom")),
        ("x", Param("language", "language", "Language")),
        ("x", Param("group_ids", "groups", "Groups")),
    ]
    with app.test_request_context():
        html = render_template_string('{% include "ui/_batch_params.html" %}', fields=fields, group=None)
    assert '<input class="form-control" id="param-x-when" name="when" type="date">' in html
    assert '<textarea class="form-control" id="param-x-note" name="note" rows="2"></textarea>' in html
    assert '<input class="form-control" id="param-x-code" name="code" placeholder="AB-1">' in html
    roles = re.search(r'<select class="form-select" id="param-x-role" name="role">(.*?)</select>', html).group(1)
    assert re.findall(r'<option value="(\w*)">([^<]+)</option>', roles) == [
        ("", "Choose a role…"),
        ("learner", "Learner"),
        ("curator", "Curator"),
        ("manager", "Manager"),
        ("reporter", "Report viewer"),
        ("admin", "Administrator"),
    ]
    # Pickers, never a box for an id: a manager and groups by name, typed and suggested (ui/_picker.html);
    # languages in words.
    for name, label in (("manager_id", "Whom"), ("group_ids", "Groups")):
        assert f'<label class="form-label" for="param-x-{name}">{label}</label>' in html
        field = re.search(rf'<input type="text"[^>]*id="param-x-{name}"[^>]*>', html).group(0)
        assert f'name="{name}_find"' in field and 'role="combobox"' in field
    assert 'data-multiple="1"' in html  # the groups picker chooses several
    assert '<option value="de">German (de)</option>' in html
    assert 'inputmode="numeric"' not in html


def test_the_form_is_read_by_param_kind(app, monkeypatch):
    extra = BatchAction(
        "x",
        "X",
        "Does x.",
        steps.deactivate,
        (
            Param("when", "date", "When", required=False),
            Param("manager_id", "manager", "Whom"),
            Param("t", "text", "T"),
        ),
    )
    monkeypatch.setattr(ui_batch, "ACTIONS", {**ACTIONS, "x": extra})
    with app.test_request_context(method="POST", data={"manager_id": "12", "t": "  hi ", "when": ""}):
        assert ui_batch.form_params("x") == {"when": None, "manager_id": 12, "t": "hi"}
    with app.test_request_context(method="POST", data={"manager_id": "twelve"}):
        with pytest.raises(InvalidInput) as refused:
            ui_batch.form_params("x")
    assert refused.value.details == {"Whom": ["Choose the manager to share them with."]}
