"""Automatic notifications: an email to a user when something happens to them.

A tenant switches each trigger on or off and edits its subject and body per language, with
placeholders (``{first_name}``, ``{course}``, ``{group}``, ``{link}``, ``{tenant}``).  The code
where the event happens calls :func:`fire` with a SELECT of the events (one row per user and
object), inside its own unit of work; :func:`fire` turns them into outbox rows with one
``INSERT ... SELECT`` (the templates are chosen by the user's language and filled in SQL), so
bulk paths stay set-based.  Each row carries a dedupe key naming (trigger, user, object, event
instance), unique per tenant in the database: a replayed event (an import run again, a roster
sync repeated, a retried job chunk) inserts nothing, so each event sends exactly one email.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, case, cast, func, literal, null, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from provisioning.activity import Actor, record
from provisioning.db import insert_ignoring_conflicts
from provisioning.errors import InvalidInput
from provisioning.i18n import N_, Message
from provisioning.mail.outbox import NOT_CONFIGURED, ensure_sender
from provisioning.mail.settings import MailSettings
from provisioning.mail.templates import one_line, render
from provisioning.models import TRIGGERS, EmailMessage, NotificationTrigger, Tenant, User, utcnow
from provisioning.runtime import Runtime

PLACEHOLDERS = ("first_name", "course", "group", "link", "tenant")
DEFAULT_LANGUAGE = "en"
SUBJECT_MAX = 400
BODY_MAX = 20_000
LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_TOKEN = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class TriggerKind:
    label: str
    placeholders: tuple[str, ...]
    defaults: dict[str, tuple[str, str]]  # language -> (subject, body)


KINDS: dict[str, TriggerKind] = {
    "enrolled": TriggerKind(
        N_("Enrolled in a course"),
        ("first_name", "course", "link", "tenant"),
        {
            "en": (
                "You are enrolled in {course}",
                "Hello {first_name},\n\nYou are now enrolled in {course}.\nStart here: {link}",
            ),
            "fr": (
                "Vous êtes inscrit(e) à {course}",
                "Bonjour {first_name},\n\nVous êtes maintenant inscrit(e) à {course}.\nCommencez ici : {link}",
            ),
            "es": (
                "Estás inscrito en {course}",
                "Hola {first_name},\n\nYa estás inscrito en {course}.\nEmpieza aquí: {link}",
            ),
        },
    ),
    "completed": TriggerKind(
        N_("Completed a course"),
        ("first_name", "course", "link", "tenant"),
        {
            "en": (
                "You completed {course}",
                "Hello {first_name},\n\nCongratulations: you completed {course}.\nSee your progress: {link}",
            ),
            "fr": (
                "Vous avez terminé {course}",
                "Bonjour {first_name},\n\nFélicitations : vous avez terminé {course}.\nVotre progression : {link}",
            ),
            "es": (
                "Has completado {course}",
                "Hola {first_name},\n\nEnhorabuena: has completado {course}.\nTu progreso: {link}",
            ),
        },
    ),
    "group_added": TriggerKind(
        N_("Added to a group"),
        ("first_name", "group", "link", "tenant"),
        {
            "en": ("You were added to {group}", "Hello {first_name},\n\nYou are now a member of {group}.\n{link}"),
            "fr": (
                "Vous avez été ajouté(e) à {group}",
                "Bonjour {first_name},\n\nVous êtes membre de {group}.\n{link}",
            ),
            "es": ("Te han añadido a {group}", "Hola {first_name},\n\nAhora eres miembro de {group}.\n{link}"),
        },
    ),
    "invited": TriggerKind(
        N_("Invited"),
        ("first_name", "link", "tenant"),
        {
            "en": (
                "Welcome to {tenant}",
                "Hello {first_name},\n\nYou have been invited to {tenant}.\nJoin here: {link}",
            ),
            "fr": ("Bienvenue sur {tenant}", "Bonjour {first_name},\n\nVous êtes invité(e) sur {tenant}.\n{link}"),
            "es": ("Bienvenido a {tenant}", "Hola {first_name},\n\nHas sido invitado a {tenant}.\nEntra aquí: {link}"),
        },
    ),
    "seat_assigned": TriggerKind(
        N_("Seat assigned"),
        ("first_name", "link", "tenant"),
        {
            "en": ("Your seat at {tenant}", "Hello {first_name},\n\nA seat at {tenant} is now yours.\nSign in: {link}"),
            "fr": (
                "Votre place sur {tenant}",
                "Bonjour {first_name},\n\nUne place sur {tenant} vous est attribuée.\n{link}",
            ),
            "es": ("Tu plaza en {tenant}", "Hola {first_name},\n\nTienes una plaza en {tenant}.\nEntra aquí: {link}"),
        },
    ),
}
assert tuple(KINDS) == TRIGGERS


# --- templates: checking and storing ---------------------------------------------------------


def placeholder_problems(trigger: str, text: str) -> list[str]:
    """What is wrong with the placeholders of ``text`` for ``trigger``, each naming its position.

    Each is a :class:`Message` (English as it is, for the API; an edge with a locale says it again)."""
    allowed = KINDS[trigger].placeholders
    choices = ", ".join("{" + p + "}" for p in allowed)
    problems: list[str] = []

    def where(pos: int) -> Message:
        line = text.count("\n", 0, pos) + 1
        column = pos - (text.rfind("\n", 0, pos) + 1) + 1
        return Message(
            N_("at position %(position)s (line %(line)s, column %(column)s)"),
            position=pos + 1,
            line=line,
            column=column,
        )

    for match in _TOKEN.finditer(text):
        name = match.group(1)
        if name in allowed:
            continue
        placeholder = "{" + name + "}"
        if name in PLACEHOLDERS:
            problems.append(
                Message(
                    N_(
                        "Placeholder %(placeholder)s %(where)s is not available for the %(trigger)s trigger; use %(allowed)s."
                    ),
                    placeholder=placeholder,
                    where=where(match.start()),
                    trigger=trigger,
                    allowed=choices,
                )
            )
        else:
            problems.append(
                Message(
                    N_("Unknown placeholder %(placeholder)s %(where)s; use %(allowed)s."),
                    placeholder=placeholder,
                    where=where(match.start()),
                    allowed=choices,
                )
            )
    stripped = _TOKEN.sub(lambda m: " " * len(m.group(0)), text)
    for pos, char in enumerate(stripped):
        if char in "{}":
            problems.append(
                Message(
                    N_("Unmatched %(brace)s %(where)s; placeholders are written like {first_name}."),
                    brace=repr(char),
                    where=where(pos),
                )
            )
    return problems


def check_templates(trigger: str, templates: Mapping[str, Any]) -> dict[str, dict[str, str] | None]:
    """Validate ``{language: {"subject", "body"} | None}``; InvalidInput names each field and placeholder."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, dict[str, str] | None] = {}
    for language, template in templates.items():
        key = f"templates.{language}"
        if not isinstance(language, str) or not LANGUAGE.match(language):
            errors[key] = [N_("A language is a lowercase ISO 639 code of 2 or 3 letters, like en or fr.")]
            continue
        if template is None:
            clean[language] = None  # back to the default
            continue
        if not isinstance(template, Mapping) or set(template) - {"subject", "body"}:
            errors[key] = [N_('Must be an object with "subject" and "body" (or null to use the default).')]
            continue
        subject, body = template.get("subject"), template.get("body")
        for field, value, limit in (("subject", subject, SUBJECT_MAX), ("body", body, BODY_MAX)):
            if not isinstance(value, str) or not value.strip():
                errors[f"{key}.{field}"] = [N_("Required text.")]
            elif len(value) > limit:
                errors[f"{key}.{field}"] = [Message(N_("At most %(most)s characters."), most=limit)]
            elif field == "subject" and ("\n" in value or "\r" in value):
                errors[f"{key}.{field}"] = [N_("A subject is one line.")]
            elif problems := placeholder_problems(trigger, value):
                errors[f"{key}.{field}"] = problems
        clean[language] = (
            {"subject": subject, "body": body} if isinstance(subject, str) and isinstance(body, str) else None
        )
    if errors:
        raise InvalidInput(N_("Some notification templates are invalid; nothing was changed."), details=errors)
    return clean


def _check_trigger(trigger: str) -> None:
    if trigger not in KINDS:
        raise InvalidInput(
            N_("Unknown trigger %(trigger)r."),
            details={"trigger": [Message(N_("Must be one of %(choices)s."), choices=", ".join(TRIGGERS))]},
            trigger=trigger,
        )


@dataclass
class TriggerView:
    trigger: str
    label: str
    enabled: bool
    placeholders: list[str]
    templates: dict[str, dict[str, str]]  # effective: defaults overlaid with the tenant's own
    customized: list[str]  # languages the tenant changed
    default_language: str = DEFAULT_LANGUAGE


def _effective(trigger: str, own: Mapping[str, Any] | None) -> dict[str, dict[str, str]]:
    merged = {lang: {"subject": s, "body": b} for lang, (s, b) in KINDS[trigger].defaults.items()}
    merged.update({lang: dict(t) for lang, t in (own or {}).items() if t})
    return merged


def _view(trigger: str, row: NotificationTrigger | None) -> TriggerView:
    own = (row.templates if row else None) or {}
    return TriggerView(
        trigger=trigger,
        label=KINDS[trigger].label,
        enabled=bool(row and row.enabled),
        placeholders=list(KINDS[trigger].placeholders),
        templates=_effective(trigger, own),
        customized=sorted(own),
    )


def list_triggers(rt: Runtime, tenant_id: int) -> list[TriggerView]:
    """Every trigger of the tenant with its switch and templates (off, with the defaults, until changed)."""
    with rt.db.read() as s:
        rows = {
            r.trigger: r
            for r in s.scalars(select(NotificationTrigger).where(NotificationTrigger.tenant_id == tenant_id))
        }
    return [_view(t, rows.get(t)) for t in TRIGGERS]


def get_trigger(rt: Runtime, tenant_id: int, trigger: str) -> TriggerView:
    _check_trigger(trigger)
    with rt.db.read() as s:
        return _view(trigger, s.get(NotificationTrigger, (tenant_id, trigger)))


def update_trigger(
    rt: Runtime,
    tenant_id: int,
    trigger: str,
    *,
    enabled: bool | None = None,
    templates: Mapping[str, Any] | None = None,
    actor: Actor | None = None,
) -> TriggerView:
    """Switch a trigger on or off and change its templates per language (None for a language: the default)."""
    _check_trigger(trigger)
    clean = check_templates(trigger, templates or {})
    with rt.db.transaction() as s:
        row = s.get(NotificationTrigger, (tenant_id, trigger), with_for_update=True)
        if row is None:
            row = NotificationTrigger(tenant_id=tenant_id, trigger=trigger, enabled=False, templates={})
            s.add(row)
        if enabled is not None:
            row.enabled = enabled
        if clean:
            own = dict(row.templates or {})
            for language, template in clean.items():
                if template is None:
                    own.pop(language, None)
                else:
                    own[language] = template
            row.templates = own
        row.updated_by = actor.name if actor else None
        row.updated_at = utcnow()
        s.flush()
        if actor is not None:
            details = {"enabled": row.enabled, "languages": sorted(clean)}
            record(s, tenant_id, actor, "notification_trigger.updated", "notification_trigger", trigger, details)
        return _view(trigger, row)


SAMPLE = {"first_name": "Ann", "course": "Driver safety", "group": "Sales team"}


def preview(
    rt: Runtime, tenant_id: int, trigger: str, language: str, template: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """The email ``trigger`` would send a user with ``language`` (sample names filled in); ``template``
    ({"subject", "body"}) previews an edit before it is saved, checked like :func:`update_trigger`."""
    view = get_trigger(rt, tenant_id, trigger)
    if template is not None:
        chosen = check_templates(trigger, {language: template})[language] or {}
    else:
        if not LANGUAGE.match(language or ""):
            raise InvalidInput(
                N_("Unknown language."), details={"language": [N_("A lowercase ISO 639 code, like en or fr.")]}
            )
        chosen = view.templates.get(language) or view.templates[DEFAULT_LANGUAGE]
    with rt.db.read() as s:
        tenant = s.get_one(Tenant, tenant_id)
    link = ((tenant.settings or {}).get("join_url") or "").strip() or rt.settings.public_base_url
    values = {**SAMPLE, "link": link, "tenant": tenant.name}
    values = {k: v for k, v in values.items() if k in KINDS[trigger].placeholders}

    def fill(text: str) -> str:
        for name, value in values.items():
            text = text.replace("{" + name + "}", value)
        return text

    subject, body = fill(chosen["subject"]), fill(chosen["body"])
    r = render(
        "automatic", {"subject": subject, "body": body, "tenant_name": tenant.name, "lang": language}, language=language
    )
    return {"subject": one_line(subject), "text": r.text, "html": r.html}


# --- firing: events to outbox rows in one statement --------------------------------------------


def _html_escape(value: Any) -> Any:
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#x27;")):
        value = func.replace(value, char, entity)
    return value


def _one_line(value: Any) -> Any:
    return func.replace(func.replace(value, "\r", " "), "\n", " ")


def _fill(template: Any, values: dict[str, Any]) -> Any:
    for name, value in values.items():
        template = func.replace(template, "{" + name + "}", value)
    return template


def _enabled_row(s: Session, tenant_id: int, trigger: str) -> NotificationTrigger | None:
    cache = s.info.setdefault("notification_triggers", {})
    key = (tenant_id, trigger)
    if key not in cache:
        row = s.scalar(
            select(NotificationTrigger).where(
                NotificationTrigger.tenant_id == tenant_id, NotificationTrigger.trigger == trigger
            )
        )
        cache[key] = row if row is not None and row.enabled else None
    return cache[key]


def fire(
    s: Session,
    rt: Runtime,
    tenant_id: int,
    trigger: str,
    events: Select,
    *,
    operation_id: int | None = None,
) -> int:
    """Queue the trigger's email for each event of ``events``; returns how many were new.

    ``events`` selects ``user_id``, ``object_id`` (the course, group..., or NULL), ``instance``
    (what tells two events on the same object apart, as text), and the ``course`` and ``group``
    names where the trigger has them.  Nothing happens when the trigger is off.  Users without an
    email or deactivated get nothing; an event already emailed is skipped by the dedupe key.
    """
    row = _enabled_row(s, tenant_id, trigger)
    if row is None:
        return 0
    templates = _effective(trigger, row.templates)
    tenant = s.get_one(Tenant, tenant_id)
    link = ((tenant.settings or {}).get("join_url") or "").strip() or rt.settings.public_base_url
    settings = MailSettings.of(rt.settings)
    ev = events.subquery("ev")
    cols = ev.c
    language = func.lower(func.coalesce(User.language, User.locale, ""))
    choices = [lang for lang in templates if lang != DEFAULT_LANGUAGE]
    fallback = DEFAULT_LANGUAGE if DEFAULT_LANGUAGE in templates else next(iter(templates))

    def by_language(part: str) -> Any:
        whens = [
            (
                (language == lang) | func.substr(language, 1, len(lang) + 1).in_((lang + "-", lang + "_")),
                literal(part_of(lang, part)),
            )
            for lang in choices
        ]
        default = literal(part_of(fallback, part))
        return case(*whens, else_=default) if whens else default

    rendered: dict[str, dict[str, str]] = {}

    def part_of(lang: str, part: str) -> str:
        if lang not in rendered:
            t = templates[lang]
            r = render(
                # The tenant wrote the words, in any language: <html lang> says which.
                "automatic",
                {"subject": t["subject"], "body": t["body"], "tenant_name": tenant.name, "lang": lang},
                language=lang,
            )
            rendered[lang] = {"subject": one_line(t["subject"]), "text": r.text, "html": r.html}
        return rendered[lang][part]

    first_name = func.coalesce(User.given_name, User.display_name, User.username, "")
    raw = {
        "first_name": first_name,
        "course": func.coalesce(cols["course"], "") if "course" in cols.keys() else literal(""),
        "group": func.coalesce(cols["group"], "") if "group" in cols.keys() else literal(""),
        "link": literal(link),
        "tenant": literal(tenant.name),
    }
    subject = func.substr(_fill(by_language("subject"), {k: _one_line(v) for k, v in raw.items()}), 1, SUBJECT_MAX)
    text_body = _fill(by_language("text"), raw)
    html_body = _fill(by_language("html"), {k: _html_escape(v) for k, v in raw.items()})
    object_part = func.coalesce(cast(cols.object_id, String), "-")
    dedupe = (
        literal(f"{trigger}:")
        + cast(User.id, String)
        + literal(":")
        + object_part
        + literal(":")
        + cast(cols.instance, String)
    )
    now = utcnow()
    stamp = literal(now, type_=EmailMessage.created_at.type)
    rows = (
        select(
            literal(tenant_id),
            User.id,
            literal(operation_id, type_=EmailMessage.operation_id.type),
            literal("notification"),
            User.email,
            subject,
            text_body,
            html_body,
            literal("queued"),
            literal(0),
            stamp,
            stamp,
            stamp,
            literal(None if settings.configured else NOT_CONFIGURED, type_=String),
            literal(trigger),
            dedupe,
        )
        .select_from(ev)
        .join(User, User.id == cols.user_id)
        .where(User.tenant_id == tenant_id, User.email.is_not(None), User.status != "deactivated")
    )
    table = EmailMessage.__table__
    stmt = (
        insert_ignoring_conflicts(s, table)
        .from_select(
            [
                "tenant_id",
                "user_id",
                "operation_id",
                "kind",
                "to_address",
                "subject",
                "text_body",
                "html_body",
                "status",
                "attempts",
                "next_attempt_at",
                "created_at",
                "updated_at",
                "last_error",
                "trigger",
                "dedupe_key",
            ],
            rows,
        )
        .returning(table.c.id)
    )
    queued = len(s.scalars(stmt).all())
    if queued and settings.configured:
        ensure_sender(s, rt, tenant_id)
    return queued


def event_select(user_id: Any, object_id: Any, instance: Any, *, course: Any = None, group: Any = None) -> Select:
    """The columns :func:`fire` reads, labelled; add FROM and WHERE to the result."""
    columns = [
        user_id.label("user_id"),
        (object_id if object_id is not None else null()).label("object_id"),
        cast(instance, String).label("instance"),
    ]
    if course is not None:
        columns.append(course.label("course"))
    if group is not None:
        columns.append(group.label("group"))
    return select(*columns)
