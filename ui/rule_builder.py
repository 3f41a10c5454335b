"""The rule builder's form (rows of field / operator / value in groups) and the "Edit rule" page.

The builder is a plain form: Add, Remove, "Edit as text" are submit buttons that post the rows back
and get the page again, so it works without JavaScript; htmx posts the same form on every change and
swaps in the builder alone (``#rule-builder``), keeping focus on the control with the same id.
Field names: ``r.1.field``, ``r.1.op``, ``r.1.value``, ``r.1.value2`` for the first row of the rule,
``r.2.match`` for a group in second place and ``r.2.1.field`` ... for its rows.
"""

from __future__ import annotations

import re
from typing import Any

from flask import redirect, render_template, request
from flask_babel import gettext

from provisioning.errors import InvalidInput
from provisioning.rules import editing
from provisioning.rules.builder import Condition, Group
from provisioning.rules.catalog import STANDARD_LABELS
from provisioning.services import groups
from ui.batch import managed_group
from ui.blueprint import ID, bp, rule
from ui.guard import actor, principal, rt, translated, ui_url

_KEY = re.compile(r"r((?:\.\d{1,3}){1,2})\.(field|op|value|value2|match)")
MAX_ROWS = 100
DIFF_PAGE = 25


def form_conditions(form: Any) -> Group:
    """The builder's rows as a Group (types are filled in by the service from the tenant's fields)."""
    rows: dict[tuple[int, ...], dict[str, str]] = {}
    for key, value in form.items():
        found = _KEY.fullmatch(key)
        if found:
            path = tuple(int(n) for n in found.group(1)[1:].split("."))
            rows.setdefault(path, {})[found.group(2)] = str(value)[:1000]
    top: list[tuple[tuple[int, ...], Condition | Group]] = []
    for path in sorted(p for p in rows if len(p) == 1)[:MAX_ROWS]:
        row = rows[path]
        if "match" in row:
            inner = sorted(p for p in rows if len(p) == 2 and p[0] == path[0])[:MAX_ROWS]
            top.append((path, Group(row["match"], tuple(_condition(rows[p]) for p in inner if "field" in rows[p]))))
        elif "field" in row:
            top.append((path, _condition(row)))
    return Group(form.get("match", "all"), tuple(item for _, item in top))


def _condition(row: dict[str, str]) -> Condition:
    return Condition(row.get("field", ""), "", row.get("op", ""), row.get("value", ""), row.get("value2", ""))


def _index(text: str) -> list[int]:
    return [int(n) - 1 for n in text.split(".") if n.isdigit()]


def apply_action(group: Group, action: str, first_field: str) -> Group:
    """Add a row, add a group, remove a row or a group (``add``, ``add:2``, ``group``, ``remove:2.1``)."""
    verb, _, where = action.partition(":")
    new = Condition(first_field, "", "")
    items = list(group.items)
    path = _index(where)
    if verb == "add" and not path:
        items.append(new)
    elif verb == "group":
        items.append(Group("any", (new,)))
    elif verb == "add" and len(path) == 1 and 0 <= path[0] < len(items) and isinstance(items[path[0]], Group):
        inner = items[path[0]]
        assert isinstance(inner, Group)
        items[path[0]] = Group(inner.match, (*inner.items, new))
    elif verb == "remove" and len(path) == 1 and 0 <= path[0] < len(items):
        del items[path[0]]
    elif verb == "remove" and len(path) == 2 and 0 <= path[0] < len(items) and isinstance(items[path[0]], Group):
        inner = items[path[0]]
        assert isinstance(inner, Group)
        kept = tuple(item for n, item in enumerate(inner.items) if n != path[1])
        items[path[0]] = Group(inner.match, kept)
        if not kept:
            del items[path[0]]
    return Group(group.match, tuple(items))


def builder_from_request(tenant_id: int, *, initial_text: str = "") -> tuple[editing.BuilderState, str, str]:
    """The builder's state for this request: (state, mode, the builder action asked for).

    GET: ``initial_text`` opens in the builder if it can show it, else as text.  POST: the rows (builder
    mode) or the text (text mode), with Add/Remove/"Edit as text"/"Use the builder" applied.
    """
    if request.method != "POST":
        state = editing.builder_state(rt(), tenant_id, text=initial_text)
        if initial_text.strip() and state.conditions is None:
            return state, "text", ""
        if not initial_text.strip():
            state = editing.builder_state(rt(), tenant_id, conditions=Group("all", (Condition("", "", ""),)))
            state.text, state.error, state.error_condition = "", None, None
        return state, "builder", ""
    # A form without the builder's rows (an older page, a script) sends the rule as text.
    rows = any(_KEY.fullmatch(k) for k in request.form)
    mode = request.form.get("mode") or ("builder" if rows or "rule" not in request.form else "text")
    mode = "text" if mode == "text" else "builder"
    action = request.form.get("builder") or ""
    if not action and request.headers.get("HX-Request") == "true":  # htmx on a change: show the rows again
        action = "refresh"
    if mode == "text":
        text = (request.form.get("rule") or "")[:10000]
        state = editing.builder_state(rt(), tenant_id, text=text)
        if action == "visual" and (not text.strip() or state.conditions is not None):
            mode = "builder"
            if not text.strip():
                state = editing.builder_state(rt(), tenant_id, conditions=Group("all", (Condition("", "", ""),)))
        return state, mode, action
    conditions = form_conditions(request.form)
    if action.startswith(("add", "group", "remove")):
        conditions = apply_action(conditions, action, "")
    state = editing.builder_state(rt(), tenant_id, conditions=conditions)
    if action == "text":
        mode = "text"
    return state, mode, action


def rule_problem(state: editing.BuilderState) -> str:
    """What stops the builder's rule from being saved, in words, with its place."""
    if state.error is None:
        return gettext("Add a condition.")
    if state.error_condition:
        return gettext("Condition %(n)s: %(message)s", n=state.error_condition, message=translated(state.error))
    if state.error_position is not None:
        return gettext("Position %(n)s: %(message)s", n=state.error_position, message=translated(state.error))
    return translated(state.error)


def added_row(after: Group | None, action: str) -> str | None:
    """The id prefix of the row an Add just put in place (the last of its group), to give it focus."""
    verb, _, where = action.partition(":")
    if after is None or not after.items:
        return None
    if verb == "add" and not where:
        return f"r-{len(after.items)}"
    if verb == "group":
        return f"r-{len(after.items)}-1"
    if verb == "add" and where.isdigit() and 0 < int(where) <= len(after.items):
        inner = after.items[int(where) - 1]
        return f"r-{where}-{len(inner.items)}" if isinstance(inner, Group) else None
    return None


@bp.app_template_global("rule_field_label")
def rule_field_label(name: str, fallback: str | None = None) -> str:
    """A rule field in the reader's language: a standard one by its declared words
    (provisioning/rules/catalog.py), any other (a custom field) by ``fallback``."""
    label = STANDARD_LABELS.get(name)
    return gettext(label) if label else (fallback or name)


@bp.route(f"/groups/<{ID}:group_id>/rule", methods=["GET", "POST"])
@rule("manage_group")
def edit_rule(group_id: int):
    """Edit an automatic group's rule: the builder (or text), who would join and leave, then save."""
    p = principal()
    group = managed_group(group_id, "manage_group")
    if group.kind != "automatic":
        raise InvalidInput(
            gettext("“%(name)s” is not an automatic group: its members are not chosen by a rule.", name=group.name),
            details={"group": [gettext("Only automatic groups have a rule.")]},
        )
    state, mode, action = builder_from_request(p.tenant_id, initial_text=group.rule or "")
    if request.method == "POST" and not action and request.form.get("diff_page"):
        action = "diff_page"
    focus = added_row(state.conditions, action)
    diff: dict[str, Any] | None = None
    status = 200
    if action in ("review", "confirm", "diff_page") and state.error is None and state.text:
        if action == "confirm" and request.form.get("reviewed_rule") == state.text:
            groups.update_group(rt(), p.tenant_id, group_id, {"rule": state.text}, actor())
            return redirect(ui_url("ui.group", group_id=group_id, rule_saved=1))
        try:
            page = max(1, min(int(request.form.get("diff_page") or 1), 100_000))
        except ValueError:
            page = 1
        diff = editing.rule_diff(rt(), p.tenant_id, group_id, state.text, page=page, per_page=DIFF_PAGE)
    elif action in ("review", "confirm") and state.error is None:
        state.error = rule_problem(state)
    if action in ("review", "confirm") and state.error is not None:
        status = 400
    return render_template(
        "ui/rule_edit.html", group=group, state=state, mode=mode, diff=diff, focus=focus, action=action
    ), status
