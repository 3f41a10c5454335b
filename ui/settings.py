"""The organisation's settings, for admins: links in emails, sender, default language, what managers may do,
which LMS roles make an admin, seats, and the LMS platforms registered (with revoke).

Each setting is declared once in provisioning/settings_catalog.py and changed by
provisioning.services.tenant_settings (the same as ``PATCH /api/v1/settings`` and the CLI).
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import lazy_gettext

from provisioning.errors import InvalidInput, NotFound
from provisioning.i18n import N_, Message
from provisioning.lti import registrations
from provisioning.roles import ADMIN_ROLE_CHOICES, parse_role
from provisioning.services import tenant_settings
from provisioning.settings_catalog import LANGUAGES, MANAGER_PERMISSIONS
from ui.blueprint import ID, bp, rule
from ui.guard import actor, principal, rt, ui_url

TEXT_SETTINGS = ("join_url", "password_reset_url", "sender_name")
PERMISSION_WORDS = {
    "view_users": (lazy_gettext("See people"), lazy_gettext("Open the people list and the pages of their people.")),
    "manage_users": (
        lazy_gettext("Edit people"),
        lazy_gettext("Change the name, department, custom fields and language of their people."),
    ),
    "export": (lazy_gettext("Download members"), lazy_gettext("Download a group's members as CSV or Excel.")),
    "message": (lazy_gettext("Message groups"), lazy_gettext("Send a message to every member of a group.")),
    "batch_actions": (
        lazy_gettext("Batch actions"),
        lazy_gettext("Run batch actions (tasks, certificates, notifications, …) on selected people."),
    ),
    "view_activity": (
        lazy_gettext("See the logs"),
        lazy_gettext("Read the action, activity and email logs of their groups."),
    ),
    "upload": (lazy_gettext("Upload files"), lazy_gettext("Add members to their groups from a spreadsheet.")),
    "create_groups": (lazy_gettext("Create groups"), lazy_gettext("Create new groups for their course.")),
}
VOCABULARY_WORDS = {"system": lazy_gettext("system role"), "institution": lazy_gettext("institution role")}


def _role_words(uri: str) -> str:
    role = parse_role(uri)
    if role is None:
        return uri
    return f"{role.name} ({VOCABULARY_WORDS.get(role.vocabulary, role.vocabulary)})"


def _render(values: dict, errors: dict | None = None, status: int = 200, saved: bool = False):
    current, platforms = (
        tenant_settings.get_settings(rt(), principal().tenant_id),
        registrations.list_registrations(rt(), principal().tenant_id, include_revoked=True),
    )
    shown = {**current, **values}
    other_roles = [r for r in shown["admin_roles"] if r not in ADMIN_ROLE_CHOICES]
    return render_template(
        "ui/settings.html",
        settings=shown,
        seats=current["seats"],
        platforms=platforms,
        languages=LANGUAGES,
        permissions=[(p, *PERMISSION_WORDS.get(p, (p, ""))) for p in MANAGER_PERMISSIONS],
        role_choices=[(uri, _role_words(uri)) for uri in ADMIN_ROLE_CHOICES],
        other_roles=values.get("admin_roles_other", "\n".join(other_roles)),
        errors=errors or {},
        saved=saved,
        revoked=next((r.name or r.issuer for r in platforms if str(r.id) == request.args.get("revoked")), None),
    ), status


@bp.get("/settings")
@rule("manage_settings")
def settings():
    return _render({}, saved=request.args.get("saved") == "1")


def _form_changes() -> tuple[dict, list[str], dict]:
    """(changes, keys to unset, what was typed) from the form."""
    changes: dict = {}
    unset: list[str] = []
    typed: dict = {}
    for key in TEXT_SETTINGS:
        if key in request.form:
            value = request.form[key].strip()
            typed[key] = value
            if value:
                changes[key] = value
            else:
                unset.append(key)
    if request.form.get("default_language"):
        changes["default_language"] = typed["default_language"] = request.form["default_language"]
    if request.form.get("manager_permissions_sent"):
        changes["manager_permissions"] = typed["manager_permissions"] = request.form.getlist("manager_permissions")
    if request.form.get("enroll_added_members_sent"):
        on = request.form.get("enroll_added_members") == "on"
        changes["enroll_added_members"] = typed["enroll_added_members"] = on
    if request.form.get("admin_roles_sent"):
        other = request.form.get("admin_roles_other", "")
        typed["admin_roles_other"] = other
        chosen = request.form.getlist("admin_roles") + [line.strip() for line in other.splitlines() if line.strip()]
        changes["admin_roles"] = typed["admin_roles"] = chosen
    return changes, unset, typed


def _without_key(key: str, message: str) -> str:
    """A settings message without its leading "key: " (the page names the field)."""
    if isinstance(message, Message) and message.template == "%(key)s: %(reason)s":
        return message.values["reason"]
    return message.split(": ", 1)[1] if message.startswith(f"{key}: ") else message


@bp.post("/settings")
@rule("manage_settings")
def settings_save():
    """Save the settings form: every value is checked before anything is written; errors go beside their field."""
    changes, unset, typed = _form_changes()
    try:
        tenant_settings.update_settings(rt(), principal().tenant_id, changes, actor(), unset=unset)
    except InvalidInput as exc:
        details = exc.details if isinstance(exc.details, dict) else {}
        # The catalog's sentences start with the setting's key ("join_url: Must be …"): the page names the field.
        errors = {k: [_without_key(k, m) for m in v] for k, v in details.items()}
        return _render(typed, errors, 400)
    return redirect(ui_url("ui.settings", saved=1))


@bp.get(f"/settings/platforms/<{ID}:registration_id>/revoke")
@rule("manage_settings")
def platform_revoke_confirm(registration_id: int):
    """Ask before revoking a platform: launches from it stop at once."""
    found = [
        r
        for r in registrations.list_registrations(rt(), principal().tenant_id, include_revoked=True)
        if r.id == registration_id
    ]
    if not found:  # another tenant's or none: as absent as a missing one
        raise NotFound(N_("No such LMS platform is registered."))
    if found[0].revoked_at is not None:
        return redirect(ui_url("ui.settings", revoked=registration_id))
    return render_template(
        "ui/platform_revoke.html",
        platform=found[0],
        action_url=url_for("ui.platform_revoke", registration_id=registration_id),
    )


@bp.post(f"/settings/platforms/<{ID}:registration_id>/revoke")
@rule("manage_settings")
def platform_revoke(registration_id: int):
    reg = registrations.revoke_registration(rt(), principal().tenant_id, registration_id, actor())
    return redirect(ui_url("ui.settings", revoked=reg.id))
