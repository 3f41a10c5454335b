"""What a rule refers to outside itself (courses, groups, attribute names), and whether those exist.

A rule naming something that does not exist must be refused, or marked broken once that
thing is deleted: ``not (enrollments[course eq "typo"])`` would otherwise match everyone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioning.filters.parser import Compare, Logical, Not, ValuePath
from provisioning.filters.translate import InvalidFilter, parse
from provisioning.i18n import N_, Message
from provisioning.models import ENROLLMENT_STATUSES, Course, Group


@dataclass(frozen=True)
class References:
    courses: tuple[tuple[str, int], ...]  # (external id, position)
    groups: tuple[tuple[str, int], ...]  # (id as written, position)
    names: frozenset[str]  # attribute names used outside brackets, lower-cased


def _comparisons(tree: Any) -> Iterator[tuple[Compare, str | None]]:
    """Every comparison with the complex attribute whose brackets it sits in (walked without recursion)."""
    stack: list[tuple[Any, str | None]] = [(tree, None)]
    while stack:
        node, bracket = stack.pop()
        if isinstance(node, Logical):
            stack.extend((item, bracket) for item in node.items)
        elif isinstance(node, Not):
            stack.append((node.item, bracket))
        elif isinstance(node, ValuePath):
            stack.append((node.filter, node.path.name.lower()))
        elif isinstance(node, Compare):
            yield node, bracket


def _on(compare: Compare, bracket: str | None, attribute: str, default: str) -> str | None:
    """The sub-attribute of ``attribute`` a comparison tests, or None if it tests something else."""
    if bracket == attribute:
        return compare.path.name.lower()
    if bracket is None and compare.path.uri is None and compare.path.name.lower() == attribute:
        return (compare.path.sub or default).lower()
    return None


@lru_cache(maxsize=4096)
def references(text: str) -> References:
    """Parse a rule once and list its references; raises InvalidFilter for a bad status value."""
    courses, groups, names = [], [], set()
    for compare, bracket in _comparisons(parse(text)):
        if bracket is None:
            names.add(compare.path.name.lower())
        value = compare.value
        if value is None or value.type not in ("string", "number"):
            continue
        enrollment = _on(compare, bracket, "enrollments", "course")
        if enrollment == "course" and compare.op == "eq":
            courses.append((str(value.value), value.position))
        if (
            enrollment == "status"
            and compare.op in ("eq", "ne")
            and str(value.value).lower() not in ENROLLMENT_STATUSES
        ):
            raise InvalidFilter(
                Message(
                    N_("Unknown enrollment status %(status)r; use one of %(statuses)s."),
                    status=value.value,
                    statuses=", ".join(ENROLLMENT_STATUSES),
                ),
                value.position,
            )
        if _on(compare, bracket, "groups", "value") == "value" and compare.op == "eq":
            groups.append((str(value.value).strip(), value.position))
    return References(tuple(courses), tuple(groups), frozenset(names))


def _as_id(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 19 else None


def check_references(s: Session, tenant_id: int, refs: References) -> None:
    """Raise InvalidFilter (with the position) for the first course or group that is not the tenant's."""
    if refs.courses:
        wanted = {c for c, _ in refs.courses}
        existing = set(
            s.scalars(select(Course.external_id).where(Course.tenant_id == tenant_id, Course.external_id.in_(wanted)))
        )
        for course, position in refs.courses:
            if course not in existing:
                raise InvalidFilter(Message(N_("No course with external id %(course)r."), course=course), position)
    if refs.groups:
        ids = {i for i in (_as_id(g) for g, _ in refs.groups) if i is not None}
        found = (
            set(s.scalars(select(Group.id).where(Group.tenant_id == tenant_id, Group.id.in_(ids)))) if ids else set()
        )
        for group, position in refs.groups:
            if _as_id(group) not in found:
                raise InvalidFilter(Message(N_("No group with id %(group)r."), group=group), position)


@dataclass(frozen=True)
class Inputs:
    """What a rule's result depends on, so a change elsewhere does not re-evaluate it.

    ``groups``: the ids of the groups whose membership it reads (``groups[value eq "42"]``);
    ``any_group``: it reads membership in a way not tied to named groups (``groups pr``,
    ``groups[value ne "42"]``, ``groups[display sw "x"]``); ``enrollments``: it reads courses;
    ``attributes``: it reads anything else about the user (names, emails, status, extensions).
    """

    groups: frozenset[int]
    any_group: bool
    enrollments: bool
    attributes: bool

    def reads_groups(self, group_ids: frozenset[int] | set[int]) -> bool:
        return bool(group_ids) and (self.any_group or not self.groups.isdisjoint(group_ids))


@dataclass(frozen=True)
class Change:
    """What changed about some users: membership of these groups, their enrollments, their attributes.

    :data:`ANY_CHANGE` (the default for a caller that does not say) re-evaluates every rule.
    """

    groups: frozenset[int] = frozenset()
    enrollments: bool = False
    attributes: bool = False
    any_group: bool = False

    def touches(self, inputs: Inputs) -> bool:
        return (
            (self.any_group and (inputs.any_group or bool(inputs.groups)))
            or inputs.reads_groups(self.groups)
            or (self.enrollments and inputs.enrollments)
            or (self.attributes and inputs.attributes)
        )


ANY_CHANGE = Change(attributes=True, enrollments=True, any_group=True)
"""Anything may have changed (a new user, or a caller that does not know); see :func:`affected`."""


@lru_cache(maxsize=4096)
def inputs(text: str) -> Inputs:
    """What ``text`` (a rule) reads; a rule that does not parse reads everything."""
    try:
        tree = parse(text)
    except InvalidFilter:
        return Inputs(frozenset(), True, True, True)
    groups: set[int] = set()
    any_group = enrollments = attributes = False
    for compare, bracket in _comparisons(tree):
        top = bracket or compare.path.name.lower()
        if top == "groups":
            value = compare.value
            sub = _on(compare, bracket, "groups", "value")
            written = value is not None and value.type in ("string", "number")
            group_id = _as_id(str(value.value).strip()) if written and value is not None else None
            if sub == "value" and compare.op == "eq" and group_id is not None:
                groups.add(group_id)
            else:
                any_group = True
        elif top == "enrollments":
            enrollments = True
        else:
            attributes = True
    return Inputs(frozenset(groups), any_group, enrollments, attributes)
