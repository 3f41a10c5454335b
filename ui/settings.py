"""The organisation's settings, for admins: links in emails, sender, default language, what managers may do,
which LMS roles make an admin, which identity provider and LMS roles give which tenant role (a small editor of
rows), seats, and the LMS platforms registered (with revoke).

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
from provisioning.services import roles, tenant_settings
from provisioning.settings_catalog import LANGUAGES, MANAGER_PERMISSIONS, role_value_key
from ui.blueprint import ID, bp, rule
from ui.guard import actor, principal, rt, ui_url
from ui.roles import ROLE_WORDS

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


# The role maps' editors: rows of "role it sends -> tenant role"; a blank row to fill in, and more on "Add a row".
ROLE_MAPS = ("scim_role_map", "lti_role_map")
ROWS_MAX = 100


def _same_entry(key: str, a: str, b: str) -> bool:
    """Do two typed entries of a role map name the same role (as the map compares them)?"""
    if key == "lti_role_map":
        ra, rb = parse_role(a), parse_role(b)
        return ra == rb if ra is not None and rb is not None else a.strip() == b.strip()
    return role_value_key(a) == role_value_key(b)


def _by_entry(item: tuple[str, str]) -> tuple[str, str]:
    return (item[0].casefold(), item[0])


def _map_rows(key: str, typed: dict, current: dict) -> list[dict]:
    """The rows to show: as typed (after a failed save or "Add a row"), else the stored map, then a blank row."""
    if key in typed:
        rows = list(typed[key])
    else:
        # By name: the same order whatever the database keeps a JSON object's keys in.
        rows = [{"value": entry, "role": role} for entry, role in sorted(current[key].items(), key=_by_entry)]
    if not rows or rows[-1]["value"] or rows[-1]["role"]:
        rows.append({"value": "", "role": ""})
    return rows


def _row_errors(key: str, rows: list[dict], messages: list) -> tuple[dict[int, list], list]:
    """The messages about one entry, by the row that holds it, and those about none."""
    by_row: dict[int, list] = {}
    rest = []
    for message in messages:
        entry = message.values.get("entry") if isinstance(message, Message) else None
        found = message.values.get("row") if isinstance(message, Message) else None
        if found is None:
            found = next(
                (i for i, r in enumerate(rows) if isinstance(entry, str) and _same_entry(key, r["value"], entry)), None
            )
        if found is None:
            rest.append(message)
        else:
            by_row.setdefault(found, []).append(message)
    return by_row, rest


def _render(values: dict, errors: dict | None = None, status: int = 200, saved: bool = False):
    current, platforms = (
        tenant_settings.get_settings(rt(), principal().tenant_id),
        registrations.list_registrations(rt(), principal().tenant_id, include_revoked=True),
    )
    shown = {**current, **values}
    other_roles = [r for r in shown["admin_roles"] if r not in ADMIN_ROLE_CHOICES]
    summary = dict(errors or {})
    errors = dict(summary)
    maps, map_errors = {}, {}
    for key in ROLE_MAPS:
        maps[key] = _map_rows(key, values, current)
        map_errors[key], rest = _row_errors(key, maps[key], errors.get(key, []))
        if key in errors and not rest:
            errors[key] = []  # all beside their rows; the summary still links to the field
        elif key in errors:
            errors[key] = rest
    tenant_roles = [
        (r["key"], ROLE_WORDS[r["key"]][0] if r["key"] in ROLE_WORDS else r["label"])
        for r in roles.role_choices(rt(), principal().tenant_id)
    ]
    return render_template(
        "ui/settings.html",
        settings=shown,
        seats=current["seats"],
        platforms=platforms,
        languages=LANGUAGES,
        permissions=[(p, *PERMISSION_WORDS.get(p, (p, ""))) for p in MANAGER_PERMISSIONS],
        role_choices=[(uri, _role_words(uri)) for uri in ADMIN_ROLE_CHOICES],
        other_roles=values.get("admin_roles_other", "\n".join(other_roles)),
        errors=errors,
        summary=summary,
        maps=maps,
        map_errors=map_errors,
        tenant_roles=tenant_roles,
        lti_role_choices=[(uri, _role_words(uri)) for uri in ADMIN_ROLE_CHOICES],
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
    for key in ROLE_MAPS:
        if request.form.get(f"{key}_sent"):
            rows, problems = _typed_rows(key)
            typed[key] = rows
            if problems:
                typed.setdefault("_problems", {})[key] = problems
            changes[key] = {r["value"]: r["role"] for r in rows if r["value"] or r["role"]}
    return changes, unset, typed


def _typed_rows(key: str) -> tuple[list[dict], list]:
    """The rows of a role map's editor as typed, without those marked "Remove" (and a blank one on "Add a row");
    a message for an entry typed twice (the map would keep one)."""
    count = min(request.form.get(f"{key}-rows", 0, type=int) or 0, ROWS_MAX)
    rows: list[dict] = []
    problems: list = []
    for i in range(count):
        row = {
            "value": request.form.get(f"{key}-{i}-value", "").strip(),
            "role": request.form.get(f"{key}-{i}-role", "").strip(),
        }
        if request.form.get(f"{key}-{i}-remove"):
            continue
        if row["value"] and any(_same_entry(key, r["value"], row["value"]) for r in rows):
            problems.append(Message(N_("%(entry)r is listed twice."), entry=row["value"], row=len(rows)))
        rows.append(row)
    if request.form.get("add_row") == key:
        rows.append({"value": "", "role": ""})
    return rows, problems


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
    problems = typed.pop("_problems", {})
    if request.form.get("add_row") in ROLE_MAPS:  # "Add a row": the form again, with one more row, nothing saved
        return _render(typed)
    if problems:
        return _render(typed, problems, 400)
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
