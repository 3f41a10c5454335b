"""/ui/roles: the tenant's roles for administrators: what each lets a person do, who has it, custom roles."""

from __future__ import annotations

from flask import redirect, render_template, request
from flask_babel import lazy_gettext

from provisioning.errors import Conflict, InvalidInput
from provisioning.services import roles
from ui.blueprint import bp, rule
from ui.guard import actor, principal, rt, ui_url

# The built-in roles and the permissions in the page's language (the core keeps the English words).
ROLE_WORDS = {
    "learner": (lazy_gettext("Learner"), lazy_gettext("Their own groups, tasks, certificates and notifications.")),
    "curator": (
        lazy_gettext("Curator"),
        lazy_gettext(
            "Builds the tenant's groups: creates groups, adds and removes members of hand-edited groups, uploads "
            "member files and syncs rosters; sees every group and person."
        ),
    ),
    "manager": (
        lazy_gettext("Manager"),
        lazy_gettext("Manages the groups of the courses they teach, with the tenant's manager permissions."),
    ),
    "reporter": (
        lazy_gettext("Report viewer"),
        lazy_gettext("Sees every group, person, member list, report and log; changes nothing."),
    ),
    "admin": (lazy_gettext("Administrator"), lazy_gettext("Everything in the tenant, including people's roles.")),
}


def tenant_role_words(tenant_id: int) -> dict[str, str]:
    """The tenant's roles by key in words: the built-in ones in the reader's language, custom ones by their name."""
    return {
        r["key"]: str(ROLE_WORDS[r["key"]][0]) if r["key"] in ROLE_WORDS else r["label"]
        for r in roles.role_choices(rt(), tenant_id)
    }


PERMISSION_WORDS = {
    "list_groups": lazy_gettext("See the list of groups"),
    "view_group": lazy_gettext("Open any group"),
    "view_members": lazy_gettext("See the members of any group"),
    "manage_group": lazy_gettext("Add and remove members of hand-edited groups"),
    "sync_roster": lazy_gettext("Sync course rosters from the LMS"),
    "view_person": lazy_gettext("Open any person's page"),
    "view_users": lazy_gettext("See the list of people"),
    "manage_users": lazy_gettext("Change people's accounts"),
    "export": lazy_gettext("Download member lists"),
    "message": lazy_gettext("Send messages to members"),
    "batch_actions": lazy_gettext("Run batch actions on people"),
    "view_activity": lazy_gettext("See the action, activity and email logs"),
    "upload": lazy_gettext("Upload member files"),
    "create_groups": lazy_gettext("Create groups"),
}
FIELD_WORDS = {
    "label": lazy_gettext("Name"),
    "description": lazy_gettext("Description"),
    "permissions": lazy_gettext("What people with this role may do"),
    "key": lazy_gettext("Name"),
}


def _page(form: dict, errors: dict, status: int = 200):
    items = roles.list_tenant_roles(rt(), principal().tenant_id)
    return (
        render_template(
            "ui/roles.html",
            roles=items,
            form=form,
            errors=errors,
            role_words=ROLE_WORDS,
            permission_words=PERMISSION_WORDS,
            field_words=FIELD_WORDS,
            created=next((r for r in items if r.key == request.args.get("created")), None),
            deleted=request.args.get("deleted") == "1",
        ),
        status,
    )


@bp.get("/roles")
@rule("manage_roles")
def roles_page():
    """Every role of the tenant, what it lets people do and how many have it; the form for a new role."""
    return _page({"label": "", "description": "", "permissions": []}, {})


@bp.post("/roles")
@rule("manage_roles")
def role_create():
    form = {
        "label": (request.form.get("label") or "").strip(),
        "description": (request.form.get("description") or "").strip(),
        "permissions": request.form.getlist("permissions"),
    }
    try:
        role = roles.create_role(rt(), principal().tenant_id, form, actor())
    except InvalidInput as exc:
        return _page(form, exc.details or {"label": [exc.message]}, 400)
    except Conflict as exc:
        return _page(form, {"label": [exc.message]}, 409)
    return redirect(ui_url("ui.roles_page", created=role.key))


@bp.post("/roles/<key>/delete")
@rule("manage_roles")
def role_delete(key: str):
    try:
        roles.delete_role(rt(), principal().tenant_id, key, actor())
    except Conflict as exc:  # a built-in role, or one people have
        return _page({"label": "", "description": "", "permissions": []}, {"": [exc.message]}, 409)
    return redirect(ui_url("ui.roles_page", deleted=1))
