"""The rule builder's conditions compile to the rule language and read back from it, for every field
type and operator (property-based), and rules typed in words are translated."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provisioning.filters.parser import InvalidFilter, parse
from provisioning.rules.builder import (
    NO_VALUE,
    OPERATORS,
    TWO_VALUES,
    Condition,
    Group,
    InvalidCondition,
    from_dict,
    from_text,
    retype,
    to_text,
)
from provisioning.rules.natural import translate

FIELDS = {
    "department": "text",
    "emails": "text",
    "name.givenName": "text",
    "location": "text",
    "employeeCount": "number",
    "hireDate": "date",
    "active": "boolean",
    "mentor": "boolean",
    "course": "course",
}

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12).filter(
    lambda t: t.strip() == t and t.strip()
)
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 30)).map(date.isoformat)
courses = st.sampled_from(["driver-safety", "first-aid", "Kurs ü 1"])


@st.composite
def conditions(draw) -> Condition:
    field = draw(st.sampled_from(sorted(FIELDS)))
    type_ = FIELDS[field]
    op = draw(st.sampled_from(OPERATORS[type_]))
    if op in NO_VALUE:
        return Condition(field, type_, op)
    if type_ == "course":
        second = draw(days) if op in TWO_VALUES else ""
        return Condition(field, type_, op, draw(courses), second)
    if type_ == "number":
        return Condition(field, type_, op, str(draw(st.integers(-(10**6), 10**6))))
    if type_ == "date":
        first = draw(days)
        if op == "between":
            last = draw(days)
            first, last = sorted((first, last))
            return Condition(field, type_, op, first, last)
        return Condition(field, type_, op, first)
    return Condition(field, type_, op, draw(texts))


def groups(depth: int = 2):
    items = conditions() if depth == 0 else st.one_of(conditions(), groups(depth - 1))
    return st.builds(Group, st.sampled_from(["all", "any"]), st.lists(items, min_size=1, max_size=4).map(tuple))


def normal(group: Group, top: bool = True) -> Group | Condition:
    """What a rule text can say of a group: one-item groups are their item, same-match groups stay groups."""
    items = tuple(normal(i, False) if isinstance(i, Group) else i for i in group.items)
    if len(items) == 1 and not top:
        return items[0]
    if len(items) == 1 and isinstance(items[0], Group):
        return items[0]
    return Group("all" if len(items) == 1 else group.match, items)


@settings(max_examples=300, deadline=None)
@given(groups())
def test_every_group_of_conditions_compiles_to_a_rule_that_reads_back_the_same(group):
    text = to_text(group)
    parse(text)  # the rule language, as the API takes it
    assert from_text(text, FIELDS) == normal(group)
    assert to_text(from_text(text, FIELDS)) == text


@pytest.mark.parametrize("type_", sorted(OPERATORS))
def test_every_operator_of_every_type_reads_back(type_):
    field = next(f for f, t in FIELDS.items() if t == type_)
    for op in OPERATORS[type_]:
        value = {"number": "42", "date": "2024-03-01", "course": "driver-safety"}.get(type_, "Sales")
        second = "2024-12-31" if op in TWO_VALUES else ""
        cond = Condition(field, type_, op, "" if op in NO_VALUE else value, second)
        assert from_text(to_text(Group("all", (cond,))), FIELDS) == Group("all", (cond,)), op


@pytest.mark.parametrize(
    "cond, text",
    [
        (Condition("department", "text", "is", "Engineering"), 'department eq "Engineering"'),
        (Condition("emails", "text", "contains", 'a"b'), 'emails co "a\\"b"'),
        (Condition("location", "text", "is_empty"), "not (location pr)"),
        (Condition("hireDate", "date", "on", "2024-03-01"), 'hireDate eq "2024-03-01"'),
        (Condition("active", "boolean", "is_false"), "active eq false"),
        (Condition("course", "course", "completed", "ds"), 'enrollments[course eq "ds" and status eq "completed"]'),
        (
            Condition("course", "course", "completed_after", "ds", "2024-12-31"),
            'enrollments[course eq "ds" and status eq "completed" and completedAt ge "2025-01-01"]',
        ),
        (
            Condition("course", "course", "not_completed", "ds"),
            'not (enrollments[course eq "ds" and status eq "completed"])',
        ),
    ],
)
def test_conditions_are_written_in_the_rule_language(cond, text):
    assert to_text(Group("all", (cond,))) == text


def test_rules_the_builder_cannot_show_read_as_none():
    for text in (
        'not (department eq "x" or title pr)',
        'department gt "x"',
        'enrollments[course eq "ds"]',
        'shoeSize eq "9"',
        'enrollments[course eq "ds" and status eq "completed" and completedAt gt "2024-01-01"]',
        'urn:example:other:location eq "x"',
    ):
        assert from_text(text, FIELDS) is None, text
    with pytest.raises(InvalidFilter):
        from_text("department = x", FIELDS)


@pytest.mark.parametrize(
    "cond, where, words",
    [
        (Condition("department", "text", "is", "  "), "1", "Enter a value"),
        (Condition("hireDate", "date", "before", "yesterday"), "1", "calendar date"),
        (Condition("hireDate", "date", "between", "2024-02-01", "2024-01-01"), "1", "before the first"),
        (Condition("course", "course", "completed", ""), "1", "Choose a course"),
        (Condition("employeeCount", "number", "is", "many"), "1", "number"),
        (Condition("department", "text", "before", "x"), "1", "Choose"),
    ],
)
def test_a_bad_condition_names_its_place(cond, where, words):
    with pytest.raises(InvalidCondition) as exc:
        to_text(Group("any", (Condition("department", "text", "is", "x"), Group("all", (cond,)))))
    assert exc.value.where == f"2.{where}" and words in exc.value.message


def test_conditions_come_from_json_and_get_the_types_of_their_fields():
    group = from_dict(
        {"match": "any", "items": [{"field": "hireDate", "type": "text", "op": "contains", "value": "x"}]}
    )
    fixed = retype(group, FIELDS)
    assert fixed.items[0] == Condition("hireDate", "date", "before", "")
    with pytest.raises(InvalidCondition):
        from_dict({"items": [{"field": "x"}]})
    with pytest.raises(InvalidCondition):
        from_dict({"match": "some", "items": []})


@pytest.mark.parametrize(
    "typed, rule",
    [
        ("department = Engineering", 'department eq "Engineering"'),
        ('email contains "x"', 'emails co "x"'),
        ("title is not Intern", 'title ne "Intern"'),
        ("first name = Ada or last name starts with Lo", 'name.givenName eq "Ada" or name.familyName sw "Lo"'),
        ("hireDate before 2024-01-01 and location is empty", 'hireDate lt "2024-01-01" and not (location pr)'),
        ("department != 'Human Resources'", 'department ne "Human Resources"'),
        ("not (department = Sales)", 'not (department eq "Sales")'),
    ],
)
def test_rules_typed_in_words_translate_to_the_rule_language(typed, rule):
    assert translate(typed) == rule
    parse(rule)


@pytest.mark.parametrize("typed", ['department eq "x"', "department = = (", "= x", "department [x]", ""])
def test_text_that_is_not_words_is_not_translated(typed):
    assert translate(typed) is None
