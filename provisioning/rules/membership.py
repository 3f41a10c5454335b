"""Making an automatic group's members match its rule, in set-based SQL.

Two shapes of the same job:

* :func:`apply_rule` -- one group, a range of user ids (a chunk of a full evaluation): an
  ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` of the matching-but-missing and a
  ``DELETE ... WHERE NOT EXISTS (matching user)`` of the present-but-no-longer-matching.
* :func:`apply_rules_to_users` -- every group, a few users (after a change): one SELECT
  computes, per user, a 0/1 column per rule; one more reads their current memberships;
  the difference is one INSERT and one DELETE.  The cost barely grows with the number of rules.

Every change is an ActivityEvent on the user (channel "rule"), plus a summary on the group.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, case, delete, func, literal, or_, select, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from provisioning.activity import Actor, record, user_events_insert
from provisioning.chunking import chunked
from provisioning.db import id_in, insert_ignoring_conflicts
from provisioning.models import Group, Membership, User, utcnow
from provisioning.store.members import touch_group

EVENT_CHUNK = 5000
SAMPLE = 100  # ids named in a group's "group.rule_applied" summary event
RULES_PER_SELECT = 100  # 0/1 columns per SELECT, well under PostgreSQL's 1,664


def desired(group: Group, condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """Who should be a member: the rule, plus always-include, minus never-include."""
    settings = group.settings or {}
    always = [int(i) for i in settings.get("always_include") or []]
    never = [int(i) for i in settings.get("never_include") or []]
    wanted = or_(condition, User.id.in_(always)) if always else condition
    return and_(wanted, User.id.not_in(never)) if never else wanted


def apply_rule(
    s: Session,
    group: Group,
    condition: ColumnElement[bool],
    after: int,
    upper: int,
    actor: Actor,
    *,
    only: Sequence[int] | None = None,
) -> tuple[int, int]:
    """Make ``group``'s members with ``after < user id <= upper`` match its rule; returns (added, removed).

    ``only``: just these users of the range (an evaluation of the users a change touched); the others
    and their memberships are left as they are.
    """
    listed = [id_in(s, User.id, only)] if only is not None else []
    wanted = and_(
        User.tenant_id == group.tenant_id, User.id > after, User.id <= upper, *listed, desired(group, condition)
    )
    member = aliased(Membership)
    # The range bounds keep this anti-join to the chunk's members whatever the plan: with the group's
    # statistics stale (a new group), PostgreSQL materialises *all* its members and compares each user
    # against them, which made a full evaluation quadratic in the group's size (bench/, EXPLAIN ANALYZE).
    missing = (
        ~select(member.user_id)
        .where(member.group_id == group.id, member.user_id == User.id, member.user_id > after, member.user_id <= upper)
        .exists()
    )
    rows = select(
        literal(group.id),
        User.id,
        literal(group.tenant_id),
        literal("rule"),
        literal(utcnow(), type_=Membership.added_at.type),
    ).where(wanted, missing)
    adding = (
        insert_ignoring_conflicts(s, Membership.__table__)
        .from_select(["group_id", "user_id", "tenant_id", "source", "added_at"], rows)
        .returning(Membership.__table__.c.user_id)
    )
    # Only the group's members in the range are looked at (a primary-key range scan), each
    # checked by primary key: a chunk costs what its members cost, not a second pass over its users.
    still_wanted = select(User.id).where(User.id == Membership.user_id, wanted).correlate(Membership).exists()
    removing = (
        Membership.__table__.delete()
        .where(
            Membership.group_id == group.id,
            Membership.user_id > after,
            Membership.user_id <= upper,
            *([id_in(s, Membership.user_id, only)] if only is not None else []),
            ~still_wanted,
        )
        .returning(Membership.__table__.c.user_id)
    )
    # Removing first: the DELETE then re-checks only the members the chunk had, not the ones it just added.
    if s.get_bind().dialect.name == "postgresql":
        removed, removed_ids = _change_with_events(s, removing, group, "group.member_removed", actor)
        added, added_ids = _change_with_events(s, adding, group, "group.member_added", actor)
        _summary(s, group, added, removed, added_ids, removed_ids, actor)
        return added, removed
    removed_ids = list(s.scalars(removing))
    added_ids = list(s.scalars(adding))
    applied(s, group, added_ids, removed_ids, actor)
    return len(added_ids), len(removed_ids)


def _change_with_events(s: Session, dml: Any, group: Group, action: str, actor: Actor) -> tuple[int, list[int]]:
    """Run an INSERT/DELETE ... RETURNING user_id and write one event per returned user, in one statement.

    PostgreSQL's data-modifying CTE (``WITH changed AS (DELETE ... RETURNING), ev AS (INSERT INTO
    activity_events SELECT ... FROM changed) SELECT count(*), first ids FROM changed``): the changed
    ids never travel to Python and back, whatever the chunk's size.  Returns (count, first SAMPLE ids).
    """
    changed = dml.cte("changed")
    events = user_events_insert(group.tenant_id, actor, action, changed.c.user_id, _event_details(group)).cte("events")
    ordered = aggregate_order_by(changed.c.user_id, changed.c.user_id)
    count, first = s.execute(
        select(func.count(), func.array_agg(ordered)[1:SAMPLE]).select_from(changed).add_cte(events)
    ).one()
    return count, list(first or [])


def apply_rules_to_users(
    s: Session,
    tenant_id: int,
    rules: Sequence[tuple[Group, ColumnElement[bool]]],
    user_ids: Sequence[int],
    actor: Actor,
) -> dict[int, tuple[list[int], list[int]]]:
    """Make a few users' memberships of many automatic groups match the groups' rules."""
    want: set[tuple[int, int]] = set()
    for chunk in chunked(rules, RULES_PER_SELECT):
        batch = chunk
        flags = [case((desired(group, condition), 1), else_=0) for group, condition in batch]
        for uid, *row in s.execute(select(User.id, *flags).where(User.tenant_id == tenant_id, User.id.in_(user_ids))):
            want.update((group.id, uid) for (group, _), flag in zip(batch, row) if flag)
    groups = {group.id: group for group, _ in rules}
    have = {
        (g, u)
        for g, u in s.execute(
            select(Membership.group_id, Membership.user_id).where(
                Membership.user_id.in_(user_ids), Membership.group_id.in_(list(groups))
            )
        )
    }
    to_add, to_remove = sorted(want - have), sorted(have - want)
    if to_add:
        now = utcnow()
        s.execute(
            insert_ignoring_conflicts(s, Membership.__table__).values(
                [
                    {"group_id": g, "user_id": u, "tenant_id": tenant_id, "source": "rule", "added_at": now}
                    for g, u in to_add
                ]
            )
        )
    if to_remove:
        s.execute(
            delete(Membership)
            .where(tuple_(Membership.group_id, Membership.user_id).in_(to_remove))
            .execution_options(synchronize_session=False)
        )
    changes: dict[int, tuple[list[int], list[int]]] = {}
    for g, u in to_add:
        changes.setdefault(g, ([], []))[0].append(u)
    for g, u in to_remove:
        changes.setdefault(g, ([], []))[1].append(u)
    for g, (added, removed) in changes.items():
        applied(s, groups[g], added, removed, actor)
    return changes


def applied(s: Session, group: Group, added: Sequence[int], removed: Sequence[int], actor: Actor) -> None:
    """Bump the group's version and record what a rule changed (per user, and a summary on the group)."""
    _member_events(s, group, added, "group.member_added", actor)
    _member_events(s, group, removed, "group.member_removed", actor)
    _summary(s, group, len(added), len(removed), list(added[:SAMPLE]), list(removed[:SAMPLE]), actor)


def _summary(
    s: Session, group: Group, added: int, removed: int, added_ids: list[int], removed_ids: list[int], actor: Actor
) -> None:
    if not added and not removed:
        return
    touch_group(s, group.id)
    record(
        s,
        group.tenant_id,
        actor,
        "group.rule_applied",
        "group",
        group.id,
        {"added": added, "removed": removed, "added_ids": added_ids, "removed_ids": removed_ids},
    )


def _event_details(group: Group) -> dict[str, Any]:
    return {"group_id": group.id, "group": group.name}


def _member_events(s: Session, group: Group, user_ids: Sequence[int], action: str, actor: Actor) -> None:
    # One event per changed membership, on the user so each person's history shows it; written
    # with INSERT ... SELECT so a chunk of thousands of changes is one statement, not thousands of rows
    # sent from Python.
    for chunk in chunked(user_ids, EVENT_CHUNK):
        s.execute(
            user_events_insert(
                group.tenant_id,
                actor,
                action,
                User.id,
                _event_details(group),
                User.tenant_id == group.tenant_id,
                User.id.in_(list(chunk)),
            )
        )
