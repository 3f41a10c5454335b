"""The rule builder's model: conditions (field, operator, value) in groups joined by all/any.

A rule is stored as text in the rule language (a SCIM filter, see :mod:`.definition`).  The builder
compiles its conditions to that same text (:func:`to_text`) and reads a rule back into conditions
where it can (:func:`from_text`); a rule it cannot represent (``not`` around a group, an operator or
a shape it has no row for) comes back as None and opens as text.  Nothing here touches the database:
the fields a tenant has come from :mod:`.catalog`.

    Group("all", (Condition("department", "text", "is", "Engineering"),
                  Condition("course", "course", "completed", "driver-safety")))
    -> department eq "Engineering" and enrollments[course eq "driver-safety" and status eq "completed"]
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from provisioning.filters.attributes import CORE_USER, CUSTOM_USER, ENTERPRISE_USER
from provisioning.filters.parser import Compare, InvalidFilter, Logical, Node, Not, Value, ValuePath, parse
from provisioning.i18n import N_, Message

TEXT, NUMBER, DATE, BOOLEAN, COURSE = "text", "number", "date", "boolean", "course"

# Operators of each field type, in the order the builder offers them.  A number compared with
# greater/less compares numerically in the rule language (a number literal on a custom attribute:
# 10 > 9; a value that is no number does not match, see provisioning/filters/translate.py); ISO dates
# ("2024-03-01") order correctly as text.
OPERATORS: dict[str, tuple[str, ...]] = {
    TEXT: ("is", "is_not", "contains", "starts_with", "ends_with", "is_empty", "is_not_empty"),
    NUMBER: ("is", "is_not", "greater_than", "at_least", "less_than", "at_most", "is_empty", "is_not_empty"),
    DATE: ("before", "after", "on", "between", "is_empty", "is_not_empty"),
    BOOLEAN: ("is_true", "is_false"),
    COURSE: ("completed", "not_completed", "enrolled", "in_progress", "completed_before", "completed_after"),
}
# Operators that take no value, and those that take a second one (a date).
NO_VALUE = frozenset({"is_empty", "is_not_empty", "is_true", "is_false"})
TWO_VALUES = frozenset({"between", "completed_before", "completed_after"})

_SCIM_OPS = {"is": "eq", "is_not": "ne", "contains": "co", "starts_with": "sw", "ends_with": "ew"}
_SCIM_DATE_OPS = {"before": "lt", "after": "gt", "on": "eq"}
_SCIM_NUMBER_OPS = {**_SCIM_OPS, "greater_than": "gt", "at_least": "ge", "less_than": "lt", "at_most": "le"}
_COURSE_STATUS = {
    "completed": "completed",
    "not_completed": "completed",
    "enrolled": "enrolled",
    "in_progress": "in_progress",
}
MAX_CONDITIONS = 200


class InvalidCondition(ValueError):
    """A condition the builder cannot compile: ``where`` is its path ("1.2": the second row of group 1)."""

    def __init__(self, message: str, where: str, *, incomplete: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.incomplete = incomplete  # a value not given yet (rather than a wrong one)


@dataclass(frozen=True)
class Condition:
    """One row: ``field`` is the attribute as the rule names it (``department``, ``emails``,
    ``hireDate``), or ``course`` for course enrollment; ``value2`` is the second date."""

    field: str
    type: str
    op: str
    value: str = ""
    value2: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "type": self.type, "op": self.op, "value": self.value, "value2": self.value2}


@dataclass(frozen=True)
class Group:
    """Conditions and groups joined by ``all`` (and) or ``any`` (or)."""

    match: str = "all"
    items: tuple[Condition | Group, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {"match": self.match, "items": [item.as_dict() for item in self.items]}


Item = Condition | Group
Types = dict[str, tuple[str, str]]  # lower-cased field -> (field as the catalog names it, type)
# Schema URNs a rule may write before a field's name (RFC 7644 §3.10).
KNOWN_URNS = frozenset(u.lower() for u in (CORE_USER, ENTERPRISE_USER, CUSTOM_USER))


# --- conditions to text -----------------------------------------------------------------------


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _date(value: str, where: str) -> date:
    if not value.strip():
        raise InvalidCondition(N_("Give the date as a calendar date (year-month-day)."), where, incomplete=True)
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidCondition(N_("Give the date as a calendar date (year-month-day)."), where) from None


def _literal(cond: Condition, where: str) -> str:
    value = cond.value.strip()
    if cond.type == NUMBER:
        try:
            number = float(value)
        except ValueError:
            raise InvalidCondition(N_("Give a number."), where) from None
        if not math.isfinite(number):
            raise InvalidCondition(N_("Give a number."), where)
        return json.dumps(int(number)) if number.is_integer() and "." not in value else json.dumps(number)
    if cond.type == DATE:
        return _quote(_date(value, where).isoformat())
    return _quote(cond.value)


def condition_text(cond: Condition, where: str = "1") -> str:
    """One condition in the rule language; raises InvalidCondition naming the row."""
    if cond.op not in OPERATORS.get(cond.type, ()):
        raise InvalidCondition(N_("Choose what to compare with."), where)
    path = cond.field
    if cond.type == COURSE:
        return _course_text(cond, where)
    if cond.op == "is_empty":
        return f"not ({path} pr)"
    if cond.op == "is_not_empty":
        return f"{path} pr"
    if cond.op in ("is_true", "is_false"):
        return f"{path} eq {'true' if cond.op == 'is_true' else 'false'}"
    if cond.type == TEXT and not cond.value.strip():
        raise InvalidCondition(N_("Enter a value to compare with."), where, incomplete=True)
    if cond.type == DATE:
        if cond.op == "between":
            first, last = _date(cond.value, where), _date(cond.value2, where)
            if last < first:
                raise InvalidCondition(N_("The second date is before the first."), where)
            return f'({path} ge "{first.isoformat()}" and {path} le "{last.isoformat()}")'
        return f"{path} {_SCIM_DATE_OPS[cond.op]} {_literal(cond, where)}"
    if cond.type == NUMBER:
        return f"{path} {_SCIM_NUMBER_OPS[cond.op]} {_literal(cond, where)}"
    return f"{path} {_SCIM_OPS[cond.op]} {_literal(cond, where)}"


def _course_text(cond: Condition, where: str) -> str:
    if not cond.value.strip():
        raise InvalidCondition(N_("Choose a course."), where, incomplete=True)
    course = f"course eq {_quote(cond.value.strip())}"
    if cond.op in ("completed_before", "completed_after"):
        day = _date(cond.value2, where)
        # completedAt is a moment: "after" a day starts at the next midnight (UTC).
        moment = f'completedAt lt "{day.isoformat()}"'
        if cond.op == "completed_after":
            moment = f'completedAt ge "{(day + timedelta(days=1)).isoformat()}"'
        return f'enrollments[{course} and status eq "completed" and {moment}]'
    text = f'enrollments[{course} and status eq "{_COURSE_STATUS[cond.op]}"]'
    return f"not ({text})" if cond.op == "not_completed" else text


def to_text(group: Group) -> str:
    """The rule text of a group of conditions (the top group without parentheses)."""
    if count_conditions(group) > MAX_CONDITIONS:
        raise InvalidCondition(Message(N_("A rule has at most %(most)s conditions."), most=MAX_CONDITIONS), "")
    path = ""
    while len(group.items) == 1 and isinstance(group.items[0], Group):  # "(a and b)" alone is "a and b"
        group, path = group.items[0], f"{path}.1" if path else "1"
    text = _group_text(group, path, top=True)
    if not text:
        raise InvalidCondition(N_("Add a condition."), "")
    return text


def _group_text(group: Group, where: str, *, top: bool) -> str:
    """A group's text; ``where`` is its place ("2": the second item of the rule)."""
    if group.match not in ("all", "any"):
        raise InvalidCondition(N_("Choose all or any."), where)
    parts = []
    for n, item in enumerate(group.items, start=1):
        path = f"{where}.{n}" if where else str(n)
        if isinstance(item, Group):
            inner = _group_text(item, path, top=False)
            if inner:
                parts.append(inner)
        else:
            parts.append(condition_text(item, path))
    if not parts:
        return ""
    joined = f" {'and' if group.match == 'all' else 'or'} ".join(parts)
    return joined if top or len(parts) == 1 else f"({joined})"


def depth(item: Item) -> int:
    """How deep groups nest: 1 for a group of conditions, 2 when it holds a group, ..."""
    if isinstance(item, Condition):
        return 0
    return 1 + max((depth(i) for i in item.items), default=0)


def count_conditions(item: Item) -> int:
    if isinstance(item, Condition):
        return 1
    return sum(count_conditions(i) for i in item.items)


# --- text to conditions -----------------------------------------------------------------------


def from_text(text: str, fields: dict[str, str]) -> Group | None:
    """Read a rule back into conditions, or None when the builder cannot show it.

    ``fields`` maps each field the tenant has (as :func:`.catalog.field_types` gives it) to its
    type; a field not in it, or an operator its type has no row for, makes the rule text-only.
    Raises InvalidFilter when the text is not a rule at all.
    """
    tree = parse(text)
    types = {name.lower(): (name, type_) for name, type_ in fields.items()}
    try:
        item = _item(tree, types)
    except _NotRepresentable:
        return None
    return item if isinstance(item, Group) else Group("all", (item,))


class _NotRepresentable(Exception):
    pass


def _item(node: Node, types: Types) -> Item:
    if isinstance(node, Logical):
        between = _between(node, types)
        if between is not None:
            return between
        return Group("all" if node.op == "and" else "any", tuple(_item(i, types) for i in node.items))
    if isinstance(node, Not):
        inner = node.item
        if isinstance(inner, Compare) and inner.op == "pr":
            name, type_ = _field(inner, types)
            if type_ in (TEXT, NUMBER, DATE):
                return Condition(name, type_, "is_empty")
        if isinstance(inner, ValuePath):
            cond = _course(inner)
            if cond.op == "completed":
                return Condition(cond.field, COURSE, "not_completed", cond.value)
        raise _NotRepresentable
    if isinstance(node, ValuePath):
        return _course(node)
    if isinstance(node, Compare):
        return _compare(node, types)
    raise _NotRepresentable  # pragma: no cover


def _field(node: Compare, types: Types) -> tuple[str, str]:
    path = node.path
    name = path.name if path.sub is None else f"{path.name}.{path.sub}"
    if path.name.lower() == "emails" and (path.sub or "value").lower() == "value":
        name = "emails"
    if path.uri is not None and path.uri.lower() not in KNOWN_URNS:
        raise _NotRepresentable
    found = types.get(name.lower())
    if found is None or found[1] == COURSE:
        raise _NotRepresentable
    return found


def _text_value(value: Value | None) -> str:
    if value is None or value.type not in ("string", "number"):
        raise _NotRepresentable
    return str(value.value)


def _compare(node: Compare, types: Types) -> Condition:
    name, type_ = _field(node, types)
    if node.op == "pr" and type_ in (TEXT, NUMBER, DATE):
        return Condition(name, type_, "is_not_empty")
    if type_ == BOOLEAN:
        value = node.value
        if node.op == "eq" and value is not None and value.type == "boolean":
            return Condition(name, type_, "is_true" if value.value else "is_false")
        raise _NotRepresentable
    if type_ == DATE:
        ops = {v: k for k, v in _SCIM_DATE_OPS.items()}
        if node.op not in ops:
            raise _NotRepresentable
        return Condition(name, type_, ops[node.op], _iso_date(_text_value(node.value)))
    ops = {v: k for k, v in (_SCIM_NUMBER_OPS if type_ == NUMBER else _SCIM_OPS).items()}
    if node.op not in ops or ops[node.op] not in OPERATORS[type_]:
        raise _NotRepresentable
    if type_ == NUMBER and (node.value is None or node.value.type != "number"):
        raise _NotRepresentable
    if type_ == TEXT and (node.value is None or node.value.type != "string"):
        raise _NotRepresentable
    return Condition(name, type_, ops[node.op], _text_value(node.value))


def _iso_date(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise _NotRepresentable from None


def _between(node: Logical, types: Types) -> Condition | None:
    if node.op != "and" or len(node.items) != 2:
        return None
    first, last = node.items
    if not (isinstance(first, Compare) and isinstance(last, Compare)) or (first.op, last.op) != ("ge", "le"):
        return None
    if first.path.text.lower() != last.path.text.lower():
        return None
    try:
        name, type_ = _field(first, types)
        if type_ != DATE:
            return None
        return Condition(name, DATE, "between", _iso_date(_text_value(first.value)), _iso_date(_text_value(last.value)))
    except _NotRepresentable:
        return None


def _course(node: ValuePath) -> Condition:
    if node.path.name.lower() != "enrollments" or node.path.uri is not None:
        raise _NotRepresentable
    found: dict[str, tuple[str, str]] = {}
    items = node.filter.items if isinstance(node.filter, Logical) and node.filter.op == "and" else (node.filter,)
    for item in items:
        if not isinstance(item, Compare) or item.value is None or item.value.type != "string":
            raise _NotRepresentable
        key = item.path.name.lower().replace("_", "")
        if key in found:
            raise _NotRepresentable
        found[key] = (item.op, str(item.value.value))
    course, status, moment = found.pop("course", None), found.pop("status", None), found.pop("completedat", None)
    if found or course is None or course[0] != "eq" or status is None or status[0] != "eq":
        raise _NotRepresentable
    state = status[1].lower()
    if moment is None:
        ops = {"completed": "completed", "enrolled": "enrolled", "in_progress": "in_progress"}
        if state not in ops:
            raise _NotRepresentable
        return Condition("course", COURSE, ops[state], course[1])
    if state != "completed":
        raise _NotRepresentable
    day = _iso_date(moment[1])
    if moment[0] == "lt":
        return Condition("course", COURSE, "completed_before", course[1], day)
    if moment[0] == "ge":
        before = (date.fromisoformat(day) - timedelta(days=1)).isoformat()
        return Condition("course", COURSE, "completed_after", course[1], before)
    raise _NotRepresentable


# --- plain data (the API's JSON, the UI's form) -----------------------------------------------


def from_dict(data: Any, where: str = "") -> Group:
    """A group from its JSON form (``{"match": "all", "items": [...]}``); raises InvalidCondition."""
    if not isinstance(data, dict):
        raise InvalidCondition(N_("A group must be an object with match and items."), where)
    items = data.get("items")
    if not isinstance(items, list):
        raise InvalidCondition(N_("A group needs a list of items."), where)
    built: list[Item] = []
    for n, item in enumerate(items, start=1):
        path = f"{where}.{n}" if where else str(n)
        if isinstance(item, dict) and "items" in item:
            built.append(from_dict(item, path))
        elif isinstance(item, dict):
            values = {k: item.get(k) for k in ("field", "type", "op", "value", "value2")}
            if not all(isinstance(values[k], str) and values[k] for k in ("field", "type", "op")):
                raise InvalidCondition(N_("A condition needs a field, its type and an operator."), path)
            if any(values[k] is not None and not isinstance(values[k], str) for k in ("value", "value2")):
                raise InvalidCondition(N_("Values are given as text."), path)
            built.append(
                Condition(
                    str(values["field"]),
                    str(values["type"]),
                    str(values["op"]),
                    str(values["value"] or ""),
                    str(values["value2"] or ""),
                )
            )
        else:
            raise InvalidCondition(N_("An item must be a condition or a group."), path)
    match = data.get("match", "all")
    if match not in ("all", "any"):
        raise InvalidCondition(N_("match is all or any."), where)
    return Group(match, tuple(built))


__all__ = [
    "BOOLEAN",
    "COURSE",
    "DATE",
    "NUMBER",
    "TEXT",
    "Condition",
    "Group",
    "InvalidCondition",
    "InvalidFilter",
    "from_dict",
    "from_text",
    "to_text",
]


def retype(group: Group, types: dict[str, str], default_field: str = "emails") -> Group:
    """Conditions with each field's type from the catalog (``types``: field -> type), and an operator
    that fits it: the first of its type's when the field changed to another type (or was unknown)."""
    items: list[Item] = []
    for item in group.items:
        if isinstance(item, Group):
            items.append(retype(item, types, default_field))
            continue
        name = item.field if item.field in types else default_field
        type_ = types.get(name, TEXT)
        op = item.op if item.op in OPERATORS[type_] else OPERATORS[type_][0]
        value = item.value if type_ == item.type or not item.type else ""
        items.append(Condition(name, type_, op, value, item.value2 if op in TWO_VALUES else ""))
    return Group(group.match if group.match in ("all", "any") else "all", tuple(items))
