"""Every /ui route and form action, as each person of docs/PERMISSIONS.md, against that table.

The routes come from the Flask URL map, the action each needs from the rule its view declares
(ui.blueprint.rule, the same declaration ui.guard enforces), the expected answer from the table in
docs/PERMISSIONS.md.  The people sign in by real LTI 1.3 launches from a platform we drive.  A new
route without a rule, or whose action the table does not list, fails here.
"""

from __future__ import annotations

import pytest

from provisioning import permissions
from provisioning.services import memberships
from tests.support.factories import make_platform
from tests.support.personas import (
    PERSONAS,
    SETUP,
    import_of,
    operation_of,
    permission_table,
    school,
)
from ui.blueprint import declared_action, rule

REFUSED = (401, 403, 404)


def ui_routes(app) -> list[tuple[str, str, object]]:
    """(endpoint, method, werkzeug rule) for every /ui route of the URL map."""
    found = []
    for url_rule in app.url_map.iter_rules():
        if not url_rule.endpoint.startswith("ui."):
            continue
        for method in sorted((url_rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((url_rule.endpoint, method, url_rule))
    # Signing out ends the persona's session, so it is walked last.
    return sorted(found, key=lambda route: route[0] == "ui.signout")


def test_every_ui_route_declares_an_action_that_the_permission_table_lists(app):
    table = permission_table()
    assert set(table) <= set(permissions.ACTIONS), "docs/PERMISSIONS.md lists an action the code doesn't know"
    missing = []
    for endpoint, method, _ in ui_routes(app):
        action = declared_action(endpoint, app.view_functions[endpoint])
        if action is None or action not in table:
            missing.append(f"{method} {endpoint}: {action}")
    assert not missing, f"Routes without a rule in docs/PERMISSIONS.md: {missing}"
    assert len(ui_routes(app)) > 30


def test_a_rule_must_name_a_known_action():
    with pytest.raises(ValueError):
        rule("do_anything")


def _forms(sch, op_id: int) -> dict[str, dict]:
    """The form each POST sends: one that passes validation where it can (the answer is then about permission)."""
    kim = str(sch.kim.id)
    return {
        "ui.group_new": {"name": "Walked group", "kind": "manual"},
        "ui.add_member": {"email": "kim@example.edu"},
        "ui.batch": {"action": "add_task", "user_ids": kim, "title": "Walk"},
        "ui.people_batch": {"action": "add_task", "user_ids": kim, "title": "Walk"},
        "ui.message": {"subject": "Hello", "body": "A walk"},
        "ui.copy_members": {"from_group_id": str(sch.group.id)},
        "ui.role_create": {"label": "Walked role", "permissions": "view_activity"},
        "ui.person_progress": {"course": str(sch.course.id), "status": "in_progress"},
        "ui.notification_switch": {"enabled": "off"},
        "ui.notification_save": {"language": "en", "do": "preview"},
        "ui.notification_preview": {"language": "en"},
    }


def test_each_route_is_allowed_exactly_when_the_table_says_so(rt, app, client, tenant, platform):
    sch = school(rt, app, client, tenant, platform)
    table = permission_table()
    op = operation_of(rt, tenant.id, sch)
    imp = import_of(rt, tenant.id, sch)
    # A platform of its own to revoke: the one the personas launched from must stay.
    spare = make_platform(rt, tenant.id, "spare-lms.example.edu")
    values = {
        "registration_id": spare.id,
        "group_id": sch.group.id,
        "user_id": sch.kim.id,
        "operation_id": op.id,
        "import_id": imp.id,
        "filename": "members.csv",
        "key": "reporter",  # a built-in role: deleting it is refused (409) even to an admin, so the walk changes nothing
        "extension": "csv",
        "trigger": "group_added",
    }
    forms = _forms(sch, op.id)
    wrong, walked = [], 0
    for endpoint, method, url_rule in ui_routes(app):
        action = declared_action(endpoint, app.view_functions[endpoint])
        if action == permissions.PUBLIC:
            continue
        path = app.url_map.bind("localhost").build(endpoint, {k: values[k] for k in url_rule.arguments}, method=method)
        for persona in PERSONAS:
            # Keep the fixture as it was: a previous persona may have removed Kim.
            memberships.add_members(rt, tenant.id, sch.group.id, user_ids=[sch.kim.id], actor=SETUP)
            session = sch.persona(persona).session
            if method == "GET":
                response = session.get(path)
            else:
                response = session.post(path, forms.get(endpoint, {}))
            walked += 1
            body = response.get_data()  # read streamed downloads to their end
            response.close()
            assert response.status_code < 500, (method, path, persona, body[:500])
            allowed = response.status_code not in REFUSED
            if allowed != table[action][persona]:
                wrong.append(f"{method} {path} ({endpoint}, {action}) as {persona}: {response.status_code}")
    assert not wrong, "Answers that differ from docs/PERMISSIONS.md:\n" + "\n".join(wrong)
    assert walked >= 6 * 30
