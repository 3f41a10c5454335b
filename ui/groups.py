"""Groups: the list (search, filters, counts, courses, managers, actions), creating, editing and deleting a
group, the rule preview."""

from __future__ import annotations

import re

from flask import jsonify, redirect, render_template, request
from flask_babel import gettext as _

from provisioning import permissions
from provisioning.errors import Conflict, Forbidden, InvalidInput
from provisioning.lti import launch as lti_launch
from provisioning.models import GROUP_KINDS
from provisioning.rules import editing
from provisioning.services import courses, group_managers, groups
from ui.blueprint import ID, bp, rule
from ui.guard import actor, principal, rt, translated, ui_url
from ui.rule_builder import added_row, builder_from_request, rule_problem

POSITION = re.compile(r"Position (\d+):")


def _populated(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 1_000_000))
    except ValueError:
        return 1


@bp.get("/groups", endpoint="groups")
@rule("list_groups")
def groups_list():
    """The groups the principal may see, filtered by name, populated and kind."""
    p = principal()
    q = (request.args.get("q") or "").strip()[:400]
    kind = request.args.get("kind") or None
    page = groups.list_groups(
        rt(),
        p.tenant_id,
        q=q or None,
        populated=_populated(request.args.get("populated")),
        kind=kind,
        page=page_number(),
        per_page=25,
        within=permissions.group_scope(p),
    )
    ids = [g.id for g in page.items]
    return render_template(
        "ui/groups.html",
        page=page,
        q=q,
        kind=kind or "",
        kinds=GROUP_KINDS,
        managers=group_managers.managers_of_groups(rt(), p.tenant_id, ids),
        courses=courses.courses_of_groups(rt(), p.tenant_id, ids),
        rights={g.id: _rights(g) for g in page.items},
        populated=request.args.get("populated") or "",
    )


def _rights(group) -> dict[str, bool]:
    """What the principal may do on ``group``: the row's actions menu and the dashboard show only these."""
    p = principal()
    return {
        a: permissions.can(rt(), p, a, group)
        for a in ("view_members", "manage_group", "export", "message", "edit_group")
    }


def _form(keys: tuple[str, ...]) -> dict[str, str]:
    return {k: (request.form.get(k) or "").strip() for k in keys}


def _field_errors(exc: InvalidInput | Conflict) -> dict[str, list[str]]:
    """A domain error as messages by form field (name, description, kind, rule)."""
    if isinstance(exc, Conflict):
        return {exc.field or "name": [exc.message]}
    details = exc.details if isinstance(exc.details, dict) else {}
    return {k: list(v) for k, v in details.items()} or {"name": [exc.message]}


def rule_editor_url(group_id: int) -> str:
    """The rule builder's page for an automatic group (ui/rule_builder.py)."""
    return ui_url("ui.edit_rule", group_id=group_id)


@bp.route("/groups/new", methods=["GET", "POST"])
@rule("create_groups")
def group_new():
    """Create a manual or an automatic group (admins; managers with create_groups, in their launch's course).

    The rule builder's buttons post this form too: they change the rows and show the page again.
    """
    p = principal()
    by_role = permissions.wide(p, "create_groups")  # an admin's, or a tenant role's: groups of the tenant
    if not by_role:
        permissions.require(rt(), p, "create_groups")
        if p.course_id is None:
            raise Forbidden(_("Open the tool from one of your courses to create a group in it."))
    form = {"name": "", "description": "", "kind": "manual"}
    errors: dict = {}
    state, mode, action = builder_from_request(p.tenant_id)
    focus = added_row(state.conditions, action)
    if request.method == "POST":
        form = _form(tuple(form))
    if request.method == "POST" and not action:
        values = {
            "name": form["name"],
            "description": form["description"] or None,
            "kind": form["kind"] if form["kind"] in ("manual", "automatic") else "manual",
        }
        if values["kind"] == "automatic":
            values["rule"] = state.text
        try:
            if values["kind"] == "automatic" and (state.error or not state.text):
                raise InvalidInput(rule_problem(state), details={"rule": [rule_problem(state)]})
            group = groups.create_group(rt(), p.tenant_id, values, actor())
            if not by_role:  # the manager's new group is a group of their course, so they manage it
                lti_launch.add_course_group(rt(), p.tenant_id, p.course_id, group.id)
        except (InvalidInput, Conflict) as exc:  # Conflict: a group with this name exists
            errors = _field_errors(exc)
        else:
            return redirect(ui_url("ui.group", group_id=group.id, created=1))
    page = render_template(
        "ui/group_new.html", form=form, errors=errors, group=None, state=state, mode=mode, focus=focus
    )
    return page, 400 if errors else 200


@bp.route(f"/groups/<{ID}:group_id>/edit", methods=["GET", "POST"])
@rule("edit_group")
def group_edit(group_id: int):
    """Change a group's name, description and kind (and an automatic group's rule, here or in the rule builder)."""
    p = principal()
    group = groups.get_group(rt(), p.tenant_id, group_id)
    form = {"name": group.name, "description": group.description or "", "kind": group.kind, "rule": group.rule or ""}
    errors: dict = {}
    if request.method == "POST":
        form = _form(tuple(form))
        values: dict = {"name": form["name"], "description": form["description"] or None}
        if group.kind != "roster":  # a roster group's members come from the LMS: its kind stays
            values["kind"] = form["kind"] if form["kind"] in ("manual", "automatic") else group.kind
            if values["kind"] == "automatic" and ("rule" in request.form or group.kind != "automatic"):
                values["rule"] = form["rule"]
        try:
            groups.update_group(rt(), p.tenant_id, group_id, values, actor())
        except (InvalidInput, Conflict) as exc:
            errors = _field_errors(exc)
        else:
            return redirect(ui_url("ui.group", group_id=group_id, saved=1))
    return render_template(
        "ui/group_new.html", form=form, errors=errors, group=group, rule_url=rule_editor_url(group_id)
    ), 400 if errors else 200


@bp.route(f"/groups/<{ID}:group_id>/delete", methods=["GET", "POST"])
@rule("edit_group")
def group_delete(group_id: int):
    """Ask, then delete a group: its members stay people of the tenant, only their membership goes."""
    p = principal()
    group = groups.get_group(rt(), p.tenant_id, group_id)
    if request.method == "POST" and request.form.get("confirmed") == "yes":
        groups.delete_group(rt(), p.tenant_id, group_id, actor())
        return redirect(ui_url("ui.groups", deleted=group.name))
    return render_template("ui/group_delete.html", group=group)


@bp.get("/rules/preview.json")
@rule("create_groups")
def rule_preview():
    """The live count and sample of an automatic group's rule, or the error and its position."""
    p = principal()
    if p.role != "admin":
        permissions.require(rt(), p, "create_groups")
    text = (request.args.get("rule") or "")[:4000]
    if not text.strip():
        return jsonify({"count": None, "sample": [], "error": None})
    try:
        result = editing.preview_text(rt(), p.tenant_id, text)
    except InvalidInput as exc:
        message = ((exc.details or {}).get("rule") or [exc.message])[0]
        found = POSITION.search(message)
        return jsonify(
            {
                "count": None,
                "sample": [],
                "error": translated(exc.message),
                "position": int(found.group(1)) if found else None,
            }
        ), 400
    return jsonify(
        {
            "count": result["count"],
            "error": None,
            "sample": [
                {
                    "id": u.id,
                    "name": u.display_name or " ".join(filter(None, (u.given_name, u.family_name))),
                    "email": u.email,
                }
                for u in result["sample"]
            ],
        }
    )
