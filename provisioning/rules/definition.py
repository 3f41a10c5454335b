"""Automatic groups: rules (SCIM filters over users), their validation, preview and upkeep.

A rule is a SCIM filter (RFC 7644 §3.4.2.2) over the tenant's users, compiled by the same
translator as the SCIM endpoints (provisioning.filters.translate), plus ``enrollments[...]`` for courses.
An automatic group's members are

    (users matching the rule  ∪  settings["always_include"])  −  settings["never_include"]

kept current by a full evaluation (an Operation, see :mod:`.rule_evaluation`) whenever the
rule changes, and by :func:`reevaluate_users` after a change to a few users.  A rule that
stops compiling (a course it names was deleted) is marked in ``settings["rule_error"]``
and left alone: its group keeps its members until the rule is fixed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from provisioning.activity import Actor, record
from provisioning.errors import InvalidInput
from provisioning.filters.attributes import DATETIME, STRING, Attribute, Complex
from provisioning.filters.translate import InvalidFilter, compile_filter
from provisioning.i18n import N_, Message
from provisioning.models import Course, Enrollment, Group, Tenant, User, utcnow
from provisioning.rules import pending
from provisioning.rules.membership import apply_rules_to_users
from provisioning.rules.references import ANY_CHANGE, Change, check_references, inputs, references
from provisioning.runtime import Runtime
from provisioning.settings_catalog import declared_custom_attributes
from provisioning.sql import json_text
from provisioning.store.groups import load_group
from provisioning.store.members import unknown_user_ids

RULE_ACTOR = Actor("rule", "rule")
INLINE_USERS = 1000  # more changed users than this re-evaluate as background jobs
MAX_EXCEPTIONS = 10_000
SAMPLE_SIZE = 10


def _enrollments_exist(tenant_id: int, condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return (
        select(Enrollment.id)
        .join(Course, Course.id == Enrollment.course_id)
        .where(Enrollment.user_id == User.id, Enrollment.tenant_id == tenant_id, condition)
        .correlate(User)
        .exists()
    )


_COMPLETED_AT = Attribute("completedAt", DATETIME, lambda: Enrollment.completed_at, case_exact=True)
# enrollments[course eq "driver-safety" and status eq "completed" and completedAt lt "2025-01-01"]
RULE_ATTRIBUTES = {
    "enrollments": Complex(
        "enrollments",
        {
            "course": Attribute("course", STRING, lambda: Course.external_id, case_exact=True, nullable=False),
            "status": Attribute("status", STRING, lambda: Enrollment.status, nullable=False),
            "role": Attribute("role", STRING, lambda: Enrollment.role),
            "completedat": _COMPLETED_AT,
            "completed_at": _COMPLETED_AT,
        },
        default="course",
        exists=_enrollments_exist,
    )
}


@dataclass(frozen=True)
class CompiledRule:
    text: str
    condition: ColumnElement[bool]
    custom_attributes: tuple[str, ...]
    courses: tuple[str, ...]


# --- compiling and validating -----------------------------------------------------------------


def _declared_custom_attributes(s: Session, tenant_id: int) -> set[str]:
    return set(declared_custom_attributes(s.scalar(select(Tenant.settings).where(Tenant.id == tenant_id))))


def _custom_key_in_use(s: Session, tenant_id: int, name: str) -> bool:
    return (
        s.scalar(
            select(User.id)
            .where(User.tenant_id == tenant_id, json_text(User.custom_attributes, name).is_not(None))
            .limit(1)
        )
        is not None
    )


@lru_cache(maxsize=4096)
def _compiled(text: str, tenant_id: int, custom: tuple[str, ...]) -> ColumnElement[bool]:
    # Pure in its arguments, so incremental re-evaluation does not re-parse on every change.
    return compile_filter(text, "User", tenant_id, custom_attributes=custom, extra_attributes=RULE_ATTRIBUTES)


def compile_rule(s: Session, tenant_id: int, text: str, *, custom: Iterable[str] = ()) -> CompiledRule:
    """Compile a rule, checking every name and course it uses; raises InvalidFilter with a position.

    A name that is neither a SCIM attribute nor declared by the tenant is taken as a custom
    attribute when some user of the tenant has it.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidFilter(Message(N_("The rule is empty.")), 0)
    refs = references(text)
    known = set(custom) | _declared_custom_attributes(s, tenant_id)
    while True:
        try:
            condition = _compiled(text, tenant_id, tuple(sorted(known)))
            break
        except InvalidFilter as exc:
            name = exc.unknown_attribute
            if name is None or name in known or not _custom_key_in_use(s, tenant_id, name):
                raise
            known.add(name)
    check_references(s, tenant_id, refs)
    used = tuple(sorted(n for n in known if n.lower() in refs.names))
    return CompiledRule(text, condition, used, tuple(sorted({c for c, _ in refs.courses})))


def rule_error(exc: InvalidFilter) -> InvalidInput:
    """The admin-facing error for a rule that does not compile: what, and where."""
    if exc.position is None:
        return InvalidInput(
            N_("The rule is not valid: %(reason)s"), details={"rule": [exc.message]}, reason=exc.message
        )
    return InvalidInput(
        N_("The rule is not valid at position %(position)s: %(reason)s"),
        details={"rule": [Message(N_("Position %(position)s: %(reason)s"), position=exc.position, reason=exc.message)]},
        position=exc.position,
        reason=exc.message,
    )


def validate_rule(s: Session, tenant_id: int, text: str) -> CompiledRule:
    """:func:`compile_rule`, with failures as InvalidInput (400) naming the position."""
    try:
        return compile_rule(s, tenant_id, text)
    except InvalidFilter as exc:
        raise rule_error(exc) from None


def preview_rule(rt: Runtime, tenant_id: int, text: str, *, sample_size: int = SAMPLE_SIZE) -> dict[str, Any]:
    """How many users a rule matches now, and the first few of them (by id)."""
    with rt.db.read() as s:
        compiled = validate_rule(s, tenant_id, text)
        where = and_(User.tenant_id == tenant_id, compiled.condition)
        count = s.scalar(select(func.count()).select_from(User).where(where)) or 0
        sample = list(s.scalars(select(User).where(where).order_by(User.id).limit(sample_size)))
    return {"count": count, "sample": sample}


# --- saving a rule ----------------------------------------------------------------------------


def group_saved(s: Session, rt: Runtime, group: Group, actor: Actor):
    """Hook for services.groups after an automatic group's rule or kind was set (same unit of work).

    Validates the rule (InvalidInput rolls the whole save back), clears a previous
    rule_error, and starts a full evaluation.  Returns the Operation, or None for other kinds
    and for an automatic group still without a rule (its members are left alone until it has one).
    """
    if group.kind != "automatic" or not (group.rule or "").strip():
        return None
    compiled = validate_rule(s, group.tenant_id, group.rule or "")
    settings = {k: v for k, v in (group.settings or {}).items() if k != "rule_error"}
    settings["rule_custom_attributes"] = list(compiled.custom_attributes)
    group.settings = settings
    return start_evaluation(s, rt, group, actor)


def start_evaluation(
    s: Session,
    rt: Runtime,
    group: Group,
    actor: Actor,
    *,
    schedule_slot: int | None = None,
    users: tuple[int, int | None] | None = None,
):
    """Queue a full rule_evaluation of ``group`` (enqueued after the caller commits), or join the
    group's queued one (:mod:`.pending`: at most one pending evaluation per group).

    ``users`` is the tenant's (count, last user id) when the caller has it already.
    """
    return pending.request_evaluation(s, rt, group, actor, schedule_slot=schedule_slot, users=users)


def set_exceptions(
    rt: Runtime,
    tenant_id: int,
    group_id: int,
    *,
    always_include: Sequence[int] | None,
    never_include: Sequence[int] | None,
    actor: Actor,
):
    """Replace an automatic group's always-include / never-include lists and re-evaluate it."""
    with rt.db.transaction() as s:
        group = load_group(s, tenant_id, group_id, for_update=True)
        if group.kind != "automatic":
            raise InvalidInput(
                N_("Group %(name)r is not automatic; it has no rule exceptions."),
                details={"kind": [N_("Must be automatic.")]},
                name=group.name,
            )
        settings = dict(group.settings or {})
        errors: dict[str, list[str]] = {}
        for key, ids in (("always_include", always_include), ("never_include", never_include)):
            if ids is None:
                continue
            ids = sorted({int(i) for i in ids})
            if len(ids) > MAX_EXCEPTIONS:
                errors[key] = [Message(N_("At most %(most)s users."), most=MAX_EXCEPTIONS)]
            elif missing := unknown_user_ids(s, tenant_id, ids):
                errors[key] = [f"No user with id {i}." for i in missing[:100]]
            settings[key] = ids
        if errors:
            raise InvalidInput(N_("Some exception lists are invalid; nothing was changed."), details=errors)
        group.settings = settings
        record(
            s,
            tenant_id,
            actor,
            "group.rule_exceptions_changed",
            "group",
            group.id,
            {k: len(settings.get(k) or []) for k in ("always_include", "never_include")},
        )
        return start_evaluation(s, rt, group, actor)


def always_included(rt: Runtime, tenant_id: int, group_id: int) -> frozenset[int]:
    """The ids on an automatic group's include list (empty for other groups): members a rule never removes."""
    with rt.db.read() as s:
        group = load_group(s, tenant_id, group_id)
        if group.kind != "automatic":
            return frozenset()
        return frozenset(int(i) for i in (group.settings or {}).get("always_include") or [])


def request_evaluation(rt: Runtime, tenant_id: int, group_id: int, actor: Actor):
    """Start a full evaluation of one automatic group now; returns the Operation."""
    with rt.db.transaction() as s:
        group = load_group(s, tenant_id, group_id, for_update=True)
        if group.kind != "automatic":
            raise InvalidInput(
                N_("Group %(name)r is not automatic; it has no rule to evaluate."),
                details={"kind": [N_("Must be automatic.")]},
                name=group.name,
            )
        return start_evaluation(s, rt, group, actor)


def evaluate_all(rt: Runtime, actor: Actor, tenant_id: int | None = None) -> list[int]:
    """Start a full evaluation of every automatic group (of one tenant, or of all); returns Operation ids."""
    with rt.db.transaction() as s:
        return start_all(s, rt, actor, tenant_id)


def start_all(
    s: Session, rt: Runtime, actor: Actor, tenant_id: int | None = None, *, schedule_slot: int | None = None
) -> list[int]:
    """:func:`evaluate_all` inside the caller's unit of work."""
    stmt = select(Group).where(Group.kind == "automatic").order_by(Group.id)
    if tenant_id is not None:
        stmt = stmt.where(Group.tenant_id == tenant_id)
    users: dict[int, tuple[int, int | None]] = {}  # one count per tenant, not one per group
    ids = []
    for group in s.scalars(stmt).all():
        if group.tenant_id not in users:
            users[group.tenant_id] = _tenant_users(s, group.tenant_id)
        ids.append(start_evaluation(s, rt, group, actor, schedule_slot=schedule_slot, users=users[group.tenant_id]).id)
    return ids


def _tenant_users(s: Session, tenant_id: int) -> tuple[int, int | None]:
    return pending.tenant_users(s, tenant_id)


def mark_broken(s: Session, group: Group, message: str, actor: Actor = RULE_ACTOR) -> None:
    """Record that a group's rule no longer compiles; its members are left as they are."""
    if (group.settings or {}).get("rule_error", {}).get("message") == message:
        return
    group.settings = {**(group.settings or {}), "rule_error": {"message": message, "at": utcnow().isoformat()}}
    record(s, group.tenant_id, actor, "group.rule_broken", "group", group.id, {"error": message})


def mark_rules_naming_course_broken(s: Session, tenant_id: int, external_id: str, actor: Actor) -> int:
    """After a course was deleted: mark the automatic groups whose rule names it."""
    marked = 0
    for group in s.scalars(select(Group).where(Group.tenant_id == tenant_id, Group.kind == "automatic")):
        try:
            compile_rule(
                s, tenant_id, group.rule or "", custom=(group.settings or {}).get("rule_custom_attributes", ())
            )
        except InvalidFilter as exc:
            mark_broken(s, group, rule_error(exc).message, actor)
            marked += 1
    return marked


# --- keeping members current ------------------------------------------------------------------


def reevaluate_users(
    s_or_rt: Session | Runtime,
    tenant_id: int,
    user_ids: Sequence[int],
    *,
    rt: Runtime | None = None,
    actor: Actor = RULE_ACTOR,
    change: Change = ANY_CHANGE,
) -> dict[int, tuple[int, int]]:
    """Re-evaluate a few users against the automatic groups whose rules read what changed.

    Call it after a change to those users, with the open Session of that change (it runs in
    the same unit of work) or with a Runtime (it opens its own).  ``change`` says what changed
    (membership of which groups, enrollments, attributes; by default anything): only the rules
    reading that, and the rules reading those groups' membership in turn, are evaluated
    (:func:`dependent_groups`).  More than INLINE_USERS users queue one evaluation of just those
    users per dependent group (when a Runtime is at hand), joining the group's pending one if any.
    Rules that test group membership may change when another group changes, so passes repeat
    (at most 3) while anything changed.  Returns {group_id: (added, removed)}.
    """
    if isinstance(s_or_rt, Runtime):
        with s_or_rt.db.transaction() as s:
            return reevaluate_users(s, tenant_id, user_ids, rt=s_or_rt, actor=actor, change=change)
    s = s_or_rt
    ids = sorted({int(i) for i in user_ids})
    if not ids:
        return {}
    groups = dependent_groups(s, tenant_id, change)
    if not groups:
        return {}
    if len(ids) > INLINE_USERS and rt is not None:
        users = _tenant_users(s, tenant_id)
        for group in groups:
            pending.request_evaluation(s, rt, group, actor, user_ids=ids, users=users)
        return {}
    rules: list[tuple[Group, ColumnElement[bool]]] = []
    for group in groups:
        try:
            condition = _compiled(
                group.rule, tenant_id, tuple(sorted((group.settings or {}).get("rule_custom_attributes", ())))
            )
            refs = references(group.rule)
            if refs.courses or refs.groups:  # a deleted course or group must not flood the group
                check_references(s, tenant_id, refs)
        except InvalidFilter as exc:
            mark_broken(s, group, rule_error(exc).message, actor)
            continue
        rules.append((group, condition))
    totals: dict[int, tuple[int, int]] = {}
    chained = any("groups" in (g.rule or "").lower() for g, _ in rules)
    for _ in range(3 if chained else 1):
        changes = apply_rules_to_users(s, tenant_id, rules, ids, actor) if rules else {}
        for group_id, (added, removed) in changes.items():
            a, r = totals.get(group_id, (0, 0))
            totals[group_id] = (a + len(added), r + len(removed))
        if not changes:
            break
    return totals


def dependent_groups(s: Session, tenant_id: int, change: Change) -> list[Group]:
    """The automatic groups (with a working rule) whose members may differ after ``change``.

    Those whose rule reads what changed, then, repeatedly, those whose rule reads the membership
    of a group already in the set (its members may change too), in id order.
    """
    candidates = [
        g
        for g in s.scalars(
            select(Group)
            .where(Group.tenant_id == tenant_id, Group.kind == "automatic", Group.rule.is_not(None))
            .order_by(Group.id)
        )
        if (g.rule or "").strip() and not (g.settings or {}).get("rule_error")
    ]
    chosen = {g.id for g in candidates if change.touches(inputs(g.rule or ""))}
    while True:
        grown = {g.id for g in candidates if g.id not in chosen and inputs(g.rule or "").reads_groups(chosen)}
        if not grown:
            break
        chosen |= grown
    return [g for g in candidates if g.id in chosen]
