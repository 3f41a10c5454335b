"""The picker component's server side: suggestions as people type, and the typed name resolved on submit.

A picker (``ui/templates/ui/_picker.html``) is a labelled text input (role="combobox") whose suggestions
come from ``/ui/pick/groups`` or ``/ui/pick/managers`` through htmx, scoped by tenant and by what the
person may choose (:mod:`provisioning.pickers`); ``ui.js`` makes them keyboard usable and puts the chosen
id in a hidden field named after the picker (``group_id``). Without JavaScript, or when nothing was
chosen from the list, the text typed (``group_id_find``) is resolved here on submit; an unknown name is
a 400 that says so and names the groups whose names contain what was typed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import render_template, request
from flask_babel import gettext as _

from provisioning import pickers
from provisioning.errors import InvalidInput
from ui.blueprint import bp, rule
from ui.guard import form_int, principal, rt

FIND = "_find"  # the typed text's field: the picker's name plus this


def _kinds(raw: str | None) -> str:
    return raw if raw in pickers.KINDS else "any"


def _exclude(raw: str | None) -> list[int]:
    return [int(raw)] if raw and raw.isdigit() and len(raw) < 19 else []


@bp.get("/pick/groups")
@rule("list_groups")
def pick_groups():
    """The suggestions of a group picker: ``field`` names the query parameter holding what was typed."""
    q = (request.args.get(request.args.get("field") or "q") or "").strip()[:400]
    found = pickers.find_groups(
        rt(), principal(), q, kinds=_kinds(request.args.get("kinds")), exclude=_exclude(request.args.get("exclude"))
    )
    options = [(g.id, g.name, g.kind, g.courses) for g in found]
    return render_template("ui/_picker_options.html", options=options, list_id=_list_id(), what="group")


@bp.get("/pick/managers")
@rule("list_groups")
def pick_managers():
    """The suggestions of the manager picker (Share): people an admin may give others to."""
    q = (request.args.get(request.args.get("field") or "q") or "").strip()[:320]
    options = [(uid, label, None, ()) for uid, label in pickers.find_managers(rt(), principal(), q)]
    return render_template("ui/_picker_options.html", options=options, list_id=_list_id(), what="manager")


def _list_id() -> str:
    raw = request.args.get("list") or "picker-list"
    return "".join(c for c in raw if c.isalnum() or c in "-_")[:80] or "picker-list"


def _refused(typed: str, near: tuple[str, ...], label: str, what: str) -> InvalidInput:
    if what == "manager":
        message = (
            _(
                "Nobody you can choose is called “%(name)s”. Close matches: %(names)s. Type the whole name or "
                "email address, or choose from the suggestions.",
                name=typed,
                names=", ".join(near),
            )
            if near
            else _("Nobody you can choose is called “%(name)s”.", name=typed)
        )
    else:
        message = (
            _(
                "No group is called exactly “%(name)s”. Groups whose names contain it: %(names)s. Type the "
                "whole name, or choose from the suggestions.",
                name=typed,
                names=", ".join(near),
            )
            if near
            else _("No group you can choose here is called “%(name)s”.", name=typed)
        )
    return InvalidInput(message, details={})  # one sentence, said once (the page shows details too)


def _picked(values: Any, name: str, resolve: Any, check: Any, what: str, label: str) -> int | None:
    """What a single picker chose. The text box decides (names are unique in a tenant, and a person without
    JavaScript may have typed over a name chosen before); a form without it sends the id alone."""
    raw = (values.get(name) or "").strip()
    typed = values.get(name + FIND)
    if typed is None:
        return form_int(raw, name) if raw else None
    typed = typed.strip()[:400]
    if not typed:
        return None
    found = resolve(typed)
    if found.id is not None:
        return found.id
    if raw and check(form_int(raw, name), typed):  # the chosen one, shown with spaces the name has around it
        return form_int(raw, name)
    raise _refused(typed, found.near, label, what)


def picked_group(values: Any, name: str, *, label: str, kinds: str = "any", exclude: Iterable[int] = ()) -> int | None:
    """The group a picker chose (the name typed, else the id chosen from the list); None if left empty."""
    p = principal()
    return _picked(
        values,
        name,
        lambda typed: pickers.resolve_group(rt(), p, typed, kinds=kinds, exclude=exclude),
        lambda gid, typed: (pickers.group_name(rt(), p, gid) or "").strip().lower() == typed.lower(),
        "group",
        label,
    )


def picked_groups(values: Any, name: str, *, label: str, kinds: str = "any") -> list[int]:
    """The groups a multiple picker chose (one hidden field each), plus a name still typed in its box."""
    ids = [form_int(v, name) for v in values.getlist(name) if v.strip()]
    text = (values.get(name + FIND) or "").strip()[:400]
    if text:
        found = pickers.resolve_group(rt(), principal(), text, kinds=kinds)
        if found.id is None:
            raise _refused(text, found.near, label, "group")
        ids.append(found.id)
    return list(dict.fromkeys(ids))


def picked_manager(values: Any, name: str, *, label: str) -> int | None:
    """The manager the Share picker chose: the name, label or email typed, else the id chosen; None if empty."""
    return _picked(
        values,
        name,
        lambda typed: pickers.resolve_manager(rt(), principal(), typed),
        lambda uid, typed: False,
        "manager",
        label,
    )


@bp.app_template_global("group_name_of")
def group_name_of(raw: Any) -> str:
    """The name of a chosen group id (a filter's), if the person may see it; '' otherwise."""
    text = str(raw or "")
    if not text.isdigit() or len(text) > 18:
        return ""
    return pickers.group_name(rt(), principal(), int(text)) or ""
