"""Use cases of the rule builder: its fields and values, conditions to text and back, and the diff.

Every function takes the Runtime and a tenant, opens its own read-only unit of work, and raises
InvalidInput (400) with the position or the condition at fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, exists, false, func, not_, or_, select
from sqlalchemy.orm import Session

from provisioning.errors import InvalidInput
from provisioning.filters.parser import InvalidFilter
from provisioning.i18n import N_, Message
from provisioning.models import Membership, User
from provisioning.rules import catalog, natural
from provisioning.rules.builder import Group, InvalidCondition, depth, from_text, retype, to_text
from provisioning.rules.definition import SAMPLE_SIZE, compile_rule, preview_rule, rule_error
from provisioning.runtime import Runtime
from provisioning.store.groups import load_group

MAX_DIFF_PAGE = 200


@dataclass(frozen=True)
class ReadRule:
    """A rule as it will be saved, and how the builder shows it."""

    text: str
    conditions: Group | None  # None: the builder cannot show it, it stays text
    translated_from: str | None = None  # the text as typed, when it was read as natural language


def condition_error(exc: InvalidCondition) -> InvalidInput:
    if not exc.where:
        return InvalidInput(exc.message, details={"conditions": [exc.message]})
    return InvalidInput(
        N_("Condition %(where)s: %(reason)s"),
        details={"conditions": [Message(N_("Condition %(where)s: %(reason)s"), where=exc.where, reason=exc.message)]},
        where=exc.where,
        reason=exc.message,
    )


def _natural_error(exc: InvalidFilter) -> InvalidInput:
    """The parser's error with the form it expects (for text that is neither the language nor words)."""
    error = rule_error(exc)
    hint = Message(
        N_("Write each condition as a field, an operator and a quoted value, like: %(example)s"),
        example=natural.EXAMPLE,
    )
    return InvalidInput(
        N_("%(reason)s %(hint)s"),
        details={"rule": [*(error.details or {}).get("rule", []), hint]},
        reason=error.message,
        hint=hint,
    )


def _read(s: Session, tenant_id: int, text: str, known: list[catalog.Field] | None = None) -> ReadRule:
    text = text.strip()
    try:
        compiled = compile_rule(s, tenant_id, text)
    except InvalidFilter as exc:
        natural_like = exc.unknown_attribute is None or exc.unknown_attribute.lower() in natural.ALIASES
        translated = natural.translate(text) if natural_like else None
        if translated is None:
            raise (_natural_error(exc) if exc.unknown_attribute is None else rule_error(exc)) from None
        try:
            compiled = compile_rule(s, tenant_id, translated)
        except InvalidFilter as again:
            raise InvalidInput(
                N_("The rule was read as %(translated)s, which is not valid: %(reason)s"),
                details={
                    "rule": [
                        Message(
                            N_("Read as %(translated)s: %(reason)s"),
                            translated=translated,
                            reason=again.message,
                        )
                    ]
                },
                translated=translated,
                reason=again.message,
            ) from None
        return ReadRule(compiled.text, _conditions(s, tenant_id, compiled.text, known), translated_from=text)
    return ReadRule(compiled.text, _conditions(s, tenant_id, compiled.text, known))


def _conditions(s: Session, tenant_id: int, text: str, known: list[catalog.Field] | None) -> Group | None:
    return from_text(text, catalog.field_types(known if known is not None else catalog.fields(s, tenant_id)))


def read_rule(rt: Runtime, tenant_id: int, text: str) -> ReadRule:
    """Validate a rule typed as text (the rule language, or words like ``department = Sales``) and
    read it into conditions where the builder can show them."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(N_("The rule is empty."), details={"rule": [N_("Enter a rule.")]})
    with rt.db.read() as s:
        return _read(s, tenant_id, text)


def describe_rule(rt: Runtime, tenant_id: int, text: str) -> dict[str, Any] | None:
    """A saved rule as conditions with the words to show them (field labels, course titles), or None
    when the builder cannot show it (or it no longer compiles): then the page shows the text."""
    if not (text or "").strip():
        return None
    with rt.db.read() as s:
        found = catalog.fields(s, tenant_id)
        try:
            conditions = from_text(text, catalog.field_types(found))
        except InvalidFilter:
            return None
        if conditions is None:
            return None
        return {
            "conditions": conditions,
            "labels": {f.name: f.label for f in found},
            "courses": dict(catalog.courses(s, tenant_id)),
        }


def preview_text(rt: Runtime, tenant_id: int, text: str) -> dict[str, Any]:
    """The live count and sample of a rule typed as text (words translated), and the rule as read."""
    read = read_rule(rt, tenant_id, text)
    return {**preview_rule(rt, tenant_id, read.text), "rule": read.text, "translated_from": read.translated_from}


def compile_conditions(rt: Runtime, tenant_id: int, conditions: Group) -> str:
    """The rule text of the builder's conditions, checked against the tenant (fields, courses)."""
    try:
        text = to_text(conditions)
    except InvalidCondition as exc:
        raise condition_error(exc) from None
    with rt.db.read() as s:
        try:
            return compile_rule(s, tenant_id, text).text
        except InvalidFilter as exc:
            raise rule_error(exc) from None


def builder_fields(rt: Runtime, tenant_id: int) -> dict[str, Any]:
    """The fields the builder offers this tenant, typed, and its courses for the course picker."""
    with rt.db.read() as s:
        return {
            "fields": catalog.fields(s, tenant_id),
            "courses": [{"id": c, "title": t} for c, t in catalog.courses(s, tenant_id)],
        }


def value_suggestions(rt: Runtime, tenant_id: int, field_name: str, prefix: str = "", limit: int = 20) -> list[str]:
    """Values people of the tenant already have in a text field, starting with ``prefix``."""
    with rt.db.read() as s:
        return catalog.suggestions(s, tenant_id, field_name, prefix, limit)


# --- the builder's page ---------------------------------------------------------------------


@dataclass
class BuilderState:
    """All the builder's page shows: the conditions (or the text), the rule, its error or its count."""

    conditions: Group | None
    text: str
    fields: list[catalog.Field]
    courses: list[tuple[str, str]]
    error: str | None = None
    error_position: int | None = None
    error_condition: str | None = None  # "2.1": the condition at fault
    incomplete: bool = False  # the error is a value not given yet
    translated_from: str | None = None
    count: int | None = None
    sample: list[User] = field(default_factory=list)
    suggestions: dict[str, list[str]] = field(default_factory=dict)


def builder_state(
    rt: Runtime, tenant_id: int, *, conditions: Group | None = None, text: str = "", max_depth: int = 2
) -> BuilderState:
    """The builder's page for some conditions, or for a rule typed as text (read back into conditions
    where possible, and where groups nest at most ``max_depth`` deep, as the page shows them): the rule
    text, what is wrong with it, or how many people it matches and who."""
    with rt.db.read() as s:
        found = catalog.fields(s, tenant_id)
        if conditions is not None:
            conditions = retype(conditions, catalog.field_types(found), found[0].name)
        state = BuilderState(conditions, text.strip(), found, catalog.courses(s, tenant_id))
        _evaluate(s, tenant_id, state, max_depth)
        for f in found:  # values people have in the text fields the rows use, for the value boxes
            if f.type == "text" and _in_use(state.conditions, f.name):
                state.suggestions[f.name] = catalog.suggestions(
                    s, tenant_id, f.name, limit=catalog.MAX_SUGGESTIONS, known=found
                )
    return state


def _evaluate(s: Session, tenant_id: int, state: BuilderState, max_depth: int) -> None:
    """Fill in the rule text and its count and sample, or what is wrong with it."""
    try:
        if state.conditions is not None:
            state.text = to_text(state.conditions)
            compiled = compile_rule(s, tenant_id, state.text)
        elif state.text:
            read = _read(s, tenant_id, state.text, state.fields)
            state.text, state.conditions, state.translated_from = read.text, read.conditions, read.translated_from
            if state.conditions is not None and depth(state.conditions) > max_depth:
                state.conditions = None
            compiled = compile_rule(s, tenant_id, state.text)
        else:
            return
    except InvalidCondition as exc:
        state.error, state.error_condition, state.incomplete = exc.message, exc.where or None, exc.incomplete
        if not exc.where:
            state.text = ""
        return
    except InvalidFilter as exc:
        state.error, state.error_position = exc.message, exc.position
        return
    except InvalidInput as exc:
        state.error_position = _position(exc)
        messages = (exc.details or {}).get("rule", [])
        if state.error_position is not None and messages:
            state.error = _joined([_reason(m) for m in messages])
        else:
            state.error = exc.message
        return
    where = and_(User.tenant_id == tenant_id, compiled.condition)
    state.count = s.scalar(select(func.count()).select_from(User).where(where)) or 0
    state.sample = list(s.scalars(select(User).where(where).order_by(*_by_name()).limit(SAMPLE_SIZE)))


def _reason(message: str) -> str:
    """A rule message without its "Position 12: " (the page says where in its own words)."""
    if isinstance(message, Message) and "reason" in message.values and message.template.startswith("Position "):
        return message.values["reason"]
    return message.split(": ", 1)[1] if message.startswith("Position ") else message


def _joined(messages: list[str]) -> str:
    """The messages as one text, each still a Message the page says in its language."""
    text = messages[0]
    for more in messages[1:]:
        text = Message(N_("%(reason)s %(hint)s"), reason=text, hint=more)
    return text


def _position(exc: InvalidInput) -> int | None:
    for message in (exc.details or {}).get("rule", []):
        if message.startswith("Position "):
            head = message[len("Position ") :].split(":", 1)[0]
            return int(head) if head.isdigit() else None
    return None


def _in_use(group: Group | None, name: str) -> bool:
    if group is None:
        return False
    return any(_in_use(i, name) if isinstance(i, Group) else i.field == name for i in group.items)


def _by_name() -> tuple[Any, ...]:
    return (func.lower(func.coalesce(User.display_name, User.family_name, User.username)), User.id)


# --- who joins, who leaves ------------------------------------------------------------------


def rule_diff(
    rt: Runtime, tenant_id: int, group_id: int, text: str, *, page: int = 1, per_page: int = 25
) -> dict[str, Any]:
    """Who would join and who would leave an automatic group if its rule became ``text``.

    Set-based: two counts and two pages of people, each one query over the users and the group's
    memberships; the group's always-include and never-include lists apply as they do when the rule
    is evaluated (provisioning.rules.evaluation).  The group itself is not changed.
    """
    page, per_page = max(1, page), max(1, min(per_page, MAX_DIFF_PAGE))
    with rt.db.read() as s:
        group = load_group(s, tenant_id, group_id)
        if group.kind != "automatic":
            raise InvalidInput(
                N_("Group %(name)r is not automatic; it has no rule."),
                details={"kind": [N_("Must be automatic.")]},
                name=group.name,
            )
        read = _read(s, tenant_id, text)
        compiled = compile_rule(s, tenant_id, read.text)
        settings = group.settings or {}
        always = [int(i) for i in settings.get("always_include") or []]
        never = [int(i) for i in settings.get("never_include") or []]
        matches = or_(compiled.condition, User.id.in_(always) if always else false())
        if never:
            matches = and_(matches, User.id.not_in(never))
        member = exists().where(Membership.group_id == group_id, Membership.user_id == User.id).correlate(User)
        joining = and_(User.tenant_id == tenant_id, matches, not_(member))
        leaving = and_(User.tenant_id == tenant_id, member, not_(matches))
        result: dict[str, Any] = {"rule": read.text, "page": page, "per_page": per_page}
        for key, where in (("join", joining), ("leave", leaving)):
            result[f"{key}_count"] = s.scalar(select(func.count()).select_from(User).where(where)) or 0
            result[key] = list(
                s.scalars(select(User).where(where).order_by(*_by_name()).offset((page - 1) * per_page).limit(per_page))
            )
        return result
