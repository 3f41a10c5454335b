"""Groups: the list (search, filters, counts), creating a group, the rule preview."""

from __future__ import annotations

import re

from flask import jsonify, redirect, render_template, request
from flask_babel import gettext as _

from provisioning import permissions
from provisioning.errors import Conflict, Forbidden, InvalidInput
from provisioning.lti import launch as lti_launch
from provisioning.models import GROUP_KINDS
from provisioning.rules import definition as rules
from provisioning.services import courses, groups
from ui.blueprint import bp, rule
from ui.guard import actor, principal, rt, ui_url

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
    managers = courses.managers_of_groups(rt(), p.tenant_id, [g.id for g in page.items])
    return render_template(
        "ui/groups.html",
        page=page,
        q=q,
        kind=kind or "",
        kinds=GROUP_KINDS,
        managers=managers,
        populated=request.args.get("populated") or "",
    )


@bp.route("/groups/new", methods=["GET", "POST"])
@rule("create_groups")
def group_new():
    """Create a manual or an automatic group (admins; managers with create_groups, in their launch's course)."""
    p = principal()
    if p.role != "admin":
        permissions.require(rt(), p, "create_groups")
        if p.course_id is None:
            raise Forbidden(_("Open the tool from one of your courses to create a group in it."))
    form = {"name": "", "description": "", "kind": "manual", "rule": ""}
    errors: dict = {}
    if request.method == "POST":
        form = {k: (request.form.get(k) or "").strip() for k in form}
        values = {
            "name": form["name"],
            "description": form["description"] or None,
            "kind": form["kind"] if form["kind"] in ("manual", "automatic") else "manual",
        }
        if values["kind"] == "automatic":
            values["rule"] = form["rule"]
        try:
            group = groups.create_group(rt(), p.tenant_id, values, actor())
            if p.role != "admin":  # the manager's new group is a group of their course, so they manage it
                lti_launch.add_course_group(rt(), p.tenant_id, p.course_id, group.id)
        except InvalidInput as exc:
            errors = exc.details or {"name": [exc.message]}
        except Conflict as exc:  # a group with this name exists
            errors = {exc.field or "name": [exc.message]}
        else:
            return redirect(ui_url("ui.group", group_id=group.id, created=1))
    return render_template("ui/group_new.html", form=form, errors=errors), 400 if errors else 200


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
        result = rules.preview_rule(rt(), p.tenant_id, text)
    except InvalidInput as exc:
        message = ((exc.details or {}).get("rule") or [exc.message])[0]
        found = POSITION.search(message)
        return jsonify(
            {"count": None, "sample": [], "error": exc.message, "position": int(found.group(1)) if found else None}
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
