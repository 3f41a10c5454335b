"""/ui/settings/notifications: the automatic notifications, for admins.

The list says what sets each trigger off, whether it is on (with a switch), and which languages have the
tenant's own text; a trigger's page switches it, and edits, previews and resets its subject and body per
language.  Every change goes through provisioning.mail.triggers (``update_trigger``, ``preview``), the same
services as ``/api/v1/notification-triggers``; the core records the activity and checks every template,
and its refusals (an unknown placeholder and where it is) are shown beside the field they name.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from provisioning import i18n
from provisioning.errors import InvalidInput, NotFound
from provisioning.i18n import N_, Message
from provisioning.mail import triggers
from ui.blueprint import bp, rule
from ui.guard import actor, principal, rt, translated, ui_url

# What sets each trigger off, in words (the core names the triggers; people read when they fire).
TRIGGER_WHEN = {
    "enrolled": lazy_gettext(
        "When someone is enrolled in a course: through the admin API, an enrollments upload, an LMS launch or "
        "roster sync, or by joining a group whose courses enrol its members."
    ),
    "completed": lazy_gettext("When someone completes a course (their enrollment is marked completed)."),
    "group_added": lazy_gettext(
        "When someone is added to a group: by hand, from an upload, by a batch action or by an LMS roster sync."
    ),
    "invited": lazy_gettext(
        "When someone is invited for the first time, beside the invitation email itself. Resending an "
        "invitation does not send it again."
    ),
    "seat_assigned": lazy_gettext("When someone takes a seat: their account is created, or reactivated."),
}
# What each placeholder becomes in the email.
PLACEHOLDER_WORDS = {
    "first_name": lazy_gettext("The person's first name (else their display name, else their username)."),
    "course": lazy_gettext("The course's title."),
    "group": lazy_gettext("The group's name."),
    "link": lazy_gettext("The invitation link of the settings (where people sign in), else this service's address."),
    "tenant": lazy_gettext("Your organisation's name."),
}
ACTIONS = ("save", "preview", "reset")


def trigger_label(trigger: str) -> str:
    return _(triggers.KINDS[trigger].label)


def _known(trigger: str) -> str:
    """The trigger of the URL; an unknown one is a page that does not exist."""
    if trigger not in triggers.KINDS:
        raise NotFound(N_("There is no such automatic notification."))
    return trigger


def _languages(view: triggers.TriggerView, extra: str | None = None) -> list[str]:
    """The languages a trigger's page offers: English, the ones the service speaks, those with a text (the
    defaults' and the tenant's own), and one the admin asked to add."""
    codes = set(i18n.languages()) | set(view.templates) | set(view.customized)
    if extra:
        codes.add(extra)
    return [triggers.DEFAULT_LANGUAGE] + sorted(codes - {triggers.DEFAULT_LANGUAGE})


def _in_words(trigger: str, message: Any) -> Any:
    """A core refusal as the page shows it: the trigger by its name in words, not its code."""
    if isinstance(message, Message) and "trigger" in message.values:
        return Message(message.template, **{**message.values, "trigger": _("“%(name)s”", name=trigger_label(trigger))})
    return message


def _field_errors(trigger: str, details: dict) -> dict[tuple[str, str], list[str]]:
    """The core's ``templates.<lang>.<field>`` details as {(language, field): sentences in the page's language}
    (field "" for the language itself)."""
    errors: dict[tuple[str, str], list[str]] = {}
    for key, messages in details.items():
        parts = str(key).split(".")
        language = parts[1] if len(parts) > 1 and parts[0] == "templates" else ""
        field = parts[2] if len(parts) > 2 else ""
        errors.setdefault((language, field), []).extend(translated(_in_words(trigger, m)) for m in messages)
    return errors


@bp.get("/settings/notifications")
@rule("manage_settings")
def notifications():
    """Every automatic notification: when it is sent, on or off (with a switch), the languages with own texts."""
    switched = request.args.get("switched") or ""
    return render_template(
        "ui/notifications.html",
        items=triggers.list_triggers(rt(), principal().tenant_id),
        when=TRIGGER_WHEN,
        label=trigger_label,
        switched=switched if switched in triggers.KINDS else None,
    )


@bp.post("/settings/notifications/<trigger>/switch")
@rule("manage_settings")
def notification_switch(trigger: str):
    """Switch a trigger on or off (``enabled`` = on | off); back to the list, or to its page (``back=page``)."""
    _known(trigger)
    wanted = request.form.get("enabled")
    if wanted not in ("on", "off"):
        raise InvalidInput(
            N_("Choose whether the notification is on or off."), details={"enabled": [N_("Must be on or off.")]}
        )
    triggers.update_trigger(rt(), principal().tenant_id, trigger, enabled=wanted == "on", actor=actor())
    if request.form.get("back") == "page":
        return redirect(ui_url("ui.notification_trigger", trigger=trigger, switched=1))
    return redirect(ui_url("ui.notifications", switched=trigger))


def _page(
    trigger: str,
    *,
    typed: dict[str, dict[str, str]] | None = None,
    errors: dict[tuple[str, str], list[str]] | None = None,
    previews: dict[str, dict[str, str]] | None = None,
    extra: str | None = None,
    status: int = 200,
    fragment: str | None = None,
    add_error: str | None = None,
):
    """The trigger's page (or, for htmx, one language's card): ``typed`` keeps what was typed per language."""
    view = triggers.get_trigger(rt(), principal().tenant_id, trigger)
    languages = _languages(view, extra)
    context = {
        "view": view,
        "label": trigger_label(trigger),
        "when": TRIGGER_WHEN[trigger],
        "placeholders": [(p, PLACEHOLDER_WORDS[p]) for p in view.placeholders],
        "languages": languages,
        "typed": typed or {},
        "errors": errors or {},
        "previews": previews or {},
        "defaults": triggers.KINDS[trigger].defaults,
        "saved": request.args.get("saved") if request.args.get("saved") in languages else None,
        "reset": request.args.get("reset") if request.args.get("reset") in languages else None,
        "switched": request.args.get("switched") == "1",
        "add_error": add_error,
        "add_typed": request.args.get("add") or "",
    }
    if fragment is not None:
        return render_template("ui/_notification_language.html", language=fragment, **context), status
    return render_template("ui/notification_trigger.html", **context), status


def _added_language() -> tuple[str | None, str | None]:
    """The language the admin asked to add (``?add=it``), or the sentence saying why it can't be."""
    raw = (request.args.get("add") or "").strip().lower()
    if not raw:
        return None, None
    if not triggers.LANGUAGE.match(raw):
        return None, _("Type a language code of 2 or 3 letters, like it or pt.")
    return raw, None


@bp.get("/settings/notifications/<trigger>")
@rule("manage_settings")
def notification_trigger(trigger: str):
    """One trigger: its switch, its placeholders, and its subject and body per language."""
    _known(trigger)
    extra, problem = _added_language()
    if problem is not None:
        return _page(trigger, add_error=problem, status=400)
    return _page(trigger, extra=extra)


def _typed() -> dict[str, str]:
    """The subject and body of the form; a browser sends a textarea's line breaks as CRLF, which the emails
    and the positions in refusals count as one."""
    body = (request.form.get("body") or "").replace("\r\n", "\n")
    return {"subject": request.form.get("subject") or "", "body": body}


def _form_language() -> str:
    language = (request.form.get("language") or "").strip().lower()
    if not triggers.LANGUAGE.match(language):
        raise InvalidInput(
            N_("Choose a language."), details={"language": [N_("A lowercase ISO 639 code, like en or fr.")]}
        )
    return language


@bp.post("/settings/notifications/<trigger>")
@rule("manage_settings")
def notification_save(trigger: str):
    """Save, preview or reset one language's text (the button pressed: ``do``); errors go beside their field
    and nothing is saved."""
    _known(trigger)
    language = _form_language()
    action = request.form.get("do") or "save"
    if action not in ACTIONS:
        action = "save"
    if action == "preview":
        return _preview(trigger, language)
    tenant_id = principal().tenant_id
    typed = _typed()
    template = None if action == "reset" else typed
    try:
        triggers.update_trigger(rt(), tenant_id, trigger, templates={language: template}, actor=actor())
    except InvalidInput as exc:
        errors = _field_errors(trigger, exc.details if isinstance(exc.details, dict) else {})
        return _page(trigger, typed={language: typed}, errors=errors, extra=language, status=400)
    done = {"reset": language} if action == "reset" else {"saved": language}
    return redirect(ui_url("ui.notification_trigger", trigger=trigger, **done))


@bp.post("/settings/notifications/<trigger>/preview")
@rule("manage_settings")
def notification_preview(trigger: str):
    """The email as a person of that language would get it, with sample names: of what is typed, else of the
    saved text.  Changes nothing.  htmx swaps in the language's card; without script, the whole page."""
    _known(trigger)
    return _preview(trigger, _form_language())


def _preview(trigger: str, language: str):
    form = _typed()
    subject, body = form["subject"], form["body"]
    # Nothing typed (a language without a text of its own): the saved text, as people get it now.
    template = {"subject": subject, "body": body} if (subject.strip() or body.strip()) else None
    typed = {language: template} if template else {}
    fragment = language if request.headers.get("HX-Request") == "true" else None
    try:
        shown = triggers.preview(rt(), principal().tenant_id, trigger, language, template)
    except InvalidInput as exc:
        errors = _field_errors(trigger, exc.details if isinstance(exc.details, dict) else {})
        # htmx swaps only a successful answer: the card with its errors is one.
        status = 200 if fragment else 400
        return _page(trigger, typed=typed, errors=errors, extra=language, status=status, fragment=fragment)
    return _page(trigger, typed=typed, previews={language: shown}, extra=language, fragment=fragment)
