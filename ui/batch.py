"""Batch actions from the UI: which a principal may start, their params from the form, the confirmation.

Shared by a group's page (its selected members) and the people page (selected users the
principal may see, shared users included).
"""

from __future__ import annotations

from datetime import date

from flask import g, redirect, render_template, request
from flask_babel import gettext as _

from provisioning import permissions
from provisioning.batch import actions as batch_actions
from provisioning.batch.params import Param
from provisioning.batch.registry import ACTIONS, own_access_refusal
from provisioning.batch_choices import BatchChoices, batch_choices, batch_summary
from provisioning.errors import Forbidden, InvalidInput
from provisioning.services import groups
from ui.blueprint import bp
from ui.guard import actor, form_int, principal, rt, translated, ui_url
from ui.pickers import picked_group, picked_groups, picked_manager
from ui.roles import tenant_role_words

# From the registry (provisioning/batch/registry.py), where each action is declared.
# Actions a manager may not start from the UI even with the batch_actions permission.
ADMIN_ONLY = frozenset(a.name for a in ACTIONS.values() if a.admin_only)
LABELS = {a.name: a.label for a in ACTIONS.values()}


@bp.app_template_global("batch_choices")
def choices() -> BatchChoices:
    """The pickers' options for the signed-in principal (ui/_batch_params.html), read once per request."""
    if getattr(g, "ui_batch_choices", None) is None:
        signed_in = getattr(g, "ui_principal", None)
        g.ui_batch_choices = batch_choices(rt(), signed_in) if signed_in else BatchChoices(may_share=False)
    return g.ui_batch_choices


# What a missing or bad param is called on the form (never its API name).
PARAM_WORDS = {
    "group_ids": "Choose at least one group.",
    "group_id": "Choose a group.",
    "manager_id": "Choose the manager to share them with.",
}


def param_fields() -> list[tuple[str, Param]]:
    """The form's fields (ui/_batch_params.html): each action's params as (action, param), in registry order."""
    return [(a.name, p) for a in ACTIONS.values() for p in a.params]


def allowed_actions() -> list[str]:
    p = principal()
    if p.role == "admin":
        return list(ACTIONS)
    if "batch_actions" not in p.grants and (p.role != "manager" or "batch_actions" not in p.permissions):
        return []
    return [a for a in ACTIONS if a not in ADMIN_ONLY]


def managed_group(group_id: int, action: str):
    """The group, if the principal may do ``action`` on it (403 otherwise, 404 for another tenant's)."""
    group = groups.get_group(rt(), principal().tenant_id, group_id)
    permissions.require(rt(), principal(), action, group)
    return group


def chosen_action() -> str:
    action = request.form.get("action") or ""
    if not action:  # the picker opens on "Choose an action…": nothing runs by default
        raise InvalidInput(_("Choose a batch action."), details={"action": [_("Choose an action.")]})
    if action not in allowed_actions():
        raise Forbidden(
            _("You can't run the batch action “%(action)s” here.", action=translated(ACTIONS[action].label))
            if action in ACTIONS
            else _("There is no such batch action.")
        )
    return action


def form_params(action: str, default_group_id: int | None = None) -> dict:
    """The action's params from the form; a manager may only move users into and out of groups they manage."""
    params: dict = {}
    group_ids: list[int] = []
    for param in ACTIONS[action].params:
        name = param.name
        label = translated(param.label)
        if param.is_id_list:
            params[name] = picked_groups(request.form, name, label=label, kinds="manual")
            if not params[name]:
                raise InvalidInput(PARAM_WORDS.get(name, param.label), details={param.label: [PARAM_WORDS[name]]})
        elif param.is_id:
            default = default_group_id if param.kind == "group" else None
            if name + "_find" not in request.form:  # no text box (a form without the picker): the id alone
                picked: int | str | None = (request.form.get(name) or "").strip()
            elif param.kind == "manager":
                picked = picked_manager(request.form, name, label=label)
            else:
                picked = picked_group(request.form, name, label=label, kinds="manual")
            params[name] = _form_id(str(picked or default or ""), param)
        elif param.kind in ("language", "role") and not (request.form.get(name) or "").strip():
            if param.kind == "language":
                raise InvalidInput(
                    _("Choose a language from the list."), details={param.label: [_("Choose a language.")]}
                )
            raise InvalidInput(_("Choose a role from the list."), details={param.label: [_("Choose a role.")]})
        else:
            params[name] = (request.form.get(name) or "").strip() or None
        if param.kind == "groups":
            group_ids += params[name]
        elif param.kind == "group":
            group_ids.append(params[name])
    for gid in group_ids:
        managed_group(gid, "manage_group")
    return params


def _form_id(raw: str | None, param: Param) -> int:
    """An id from a picker; a missing or bad one is a 400 saying what to choose, in words."""
    try:
        return form_int(raw, param.name)
    except InvalidInput:
        sentence = PARAM_WORDS.get(param.name, f"Choose a value for {param.label}.")
        raise InvalidInput(sentence, details={param.label: [sentence]}) from None


def selected_ids() -> list[int]:
    return [form_int(v, "user_ids") for v in request.form.getlist("user_ids")]


def _typed_values(action: str, params: dict) -> list[tuple[str, object, str]]:
    """What was typed for the action (a task's title and due date, a message, a certificate), each with its
    label and kind, for the confirmation to repeat before anything is sent ("check your answers")."""
    typed: list[tuple[str, object, str]] = []
    for p in ACTIONS[action].params:
        value = params.get(p.name)
        if p.kind not in ("text", "long_text", "date") or value in (None, ""):
            continue
        kind = p.kind
        if kind == "date":
            try:
                value = date.fromisoformat(str(value))
            except ValueError:
                kind = "text"  # shown as typed; starting the action names the field that is wrong
        typed.append((translated(p.label), value, kind))
    return typed


def confirm_or_start(action: str, params: dict, user_ids: list[int], *, action_url: str, back_url: str, group=None):
    """The confirmation page (how many users it touches), or, once confirmed, the Operation's page."""
    if not user_ids:
        raise InvalidInput(_("Select at least one user."), details={"user_ids": [_("Select members.")]})
    refusal = own_access_refusal(action, actor().user_id, user_ids)
    if refusal:
        raise Forbidden(refusal)
    if ACTIONS[action].account_wide:
        beyond = permissions.beyond_reach(rt(), principal(), user_ids)
        if beyond:
            raise Forbidden(
                _(
                    "%(action)s changes a person's whole account: you can't do it to %(num)s of the selected "
                    "people, who are staff or belong to groups you do not manage. Ask an administrator.",
                    action=translated(LABELS[action]),
                    num=len(beyond),
                )
            )
    if request.form.get("confirmed") != "yes":
        return render_template(
            "ui/confirm.html",
            group=group,
            action=action,
            label=translated(LABELS[action]),
            user_ids=user_ids,
            params=params,
            role_words=tenant_role_words(principal().tenant_id) if params.get("role") else {},
            typed=_typed_values(action, params),
            summary=batch_summary(rt(), principal(), user_ids, params),
            action_url=action_url,
            back_url=back_url,
        )
    op = batch_actions.request_batch_action(rt(), principal().tenant_id, action, params, actor(), user_ids=user_ids)
    return redirect(ui_url("ui.operation", operation_id=op.id, back=back_url))
