"""A group's managers (admins choose them: a person picker, their permissions, a confirmation) and the
automatic group's evaluation notice the dashboard polls."""

from __future__ import annotations

from flask import redirect, render_template, request
from flask_babel import lazy_gettext

from provisioning.errors import InvalidInput
from provisioning.i18n import N_
from provisioning.services import group_managers, groups, users
from provisioning.settings_catalog import MANAGER_PERMISSIONS
from ui.blueprint import ID, bp, rule
from ui.guard import actor, form_int, principal, rt, ui_url

# The manager permissions in words (provisioning/settings_catalog.py declares them).
PERMISSION_WORDS = {
    "view_users": lazy_gettext("See the people of the group"),
    "manage_users": lazy_gettext("Change people's accounts"),
    "export": lazy_gettext("Download the members"),
    "message": lazy_gettext("Send messages to the members"),
    "batch_actions": lazy_gettext("Change several members at once (batch tools)"),
    "view_activity": lazy_gettext("See the logs"),
    "upload": lazy_gettext("Upload member files"),
    "create_groups": lazy_gettext("Create groups"),
}
assert set(PERMISSION_WORDS) == set(MANAGER_PERMISSIONS)


@bp.get(f"/groups/<{ID}:group_id>/managers/candidates")
@rule("assign_managers")
def manager_candidates(group_id: int):
    """The person picker's results (an htmx fragment; the dashboard renders the same list without script)."""
    q = (request.args.get("mq") or "").strip()[:200]
    found = group_managers.find_people(rt(), principal().tenant_id, q)
    return render_template("ui/_manager_candidates.html", candidates=found, mq=q)


@bp.post(f"/groups/<{ID}:group_id>/managers")
@rule("assign_managers")
def assign_manager(group_id: int):
    """Confirm, then make the chosen person a manager of this group with the chosen permissions."""
    p = principal()
    raw = request.form.get("user_id")
    if not raw:
        raise InvalidInput(
            N_("Choose the person who will manage this group: search by name or email, then pick one."),
            details={"person": [N_("Choose a person.")]},
        )
    user_id = form_int(raw, "person")
    chosen = [perm for perm in request.form.getlist("permissions") if perm in MANAGER_PERMISSIONS]
    if request.form.get("confirmed") != "yes":
        group = groups.get_group(rt(), p.tenant_id, group_id)
        person = users.get_user(rt(), p.tenant_id, user_id)
        return render_template(
            "ui/group_manager_confirm.html",
            group=group,
            person=group_managers.person_name(person),
            email=person.email,
            user_id=user_id,
            chosen=chosen,
            words=PERMISSION_WORDS,
            removing=False,
        )
    manager = group_managers.assign_manager(rt(), p.tenant_id, group_id, user_id, chosen, actor())
    return redirect(ui_url("ui.group", group_id=group_id, manager=manager.name, _anchor="managers"))


@bp.post(f"/groups/<{ID}:group_id>/managers/<{ID}:user_id>/remove")
@rule("assign_managers")
def remove_manager(group_id: int, user_id: int):
    """Confirm, then stop the person managing this group."""
    p = principal()
    group = groups.get_group(rt(), p.tenant_id, group_id)
    person = users.get_user(rt(), p.tenant_id, user_id)
    name = group_managers.person_name(person)
    if request.form.get("confirmed") != "yes":
        return render_template(
            "ui/group_manager_confirm.html",
            group=group,
            person=name,
            email=person.email,
            user_id=user_id,
            chosen=[],
            words=PERMISSION_WORDS,
            removing=True,
        )
    group_managers.remove_manager(rt(), p.tenant_id, group_id, user_id, actor())
    return redirect(ui_url("ui.group", group_id=group_id, unmanaged=name, _anchor="managers"))


@bp.get(f"/groups/<{ID}:group_id>/status")
@rule("view_group")
def group_status(group_id: int):
    """The automatic group's evaluation notice (polled by the dashboard while it runs)."""
    p = principal()
    group = groups.get_group(rt(), p.tenant_id, group_id)
    state = groups.evaluation_status(rt(), p.tenant_id, group_id)
    return render_template("ui/_group_status.html", group=group, state=state)
