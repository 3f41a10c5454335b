"""Small SQL constructs that behave the same on PostgreSQL and SQLite: LIKE escaping, JSON keys as text,
balanced OR/AND trees (the filter translator, rules, searches and the audit log share them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Boolean, Numeric, String, and_, func, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import literal

# A column expression, or a mapped attribute standing for its column (``User.extra``).
Column = ColumnElement[Any] | QueryableAttribute[Any]


def escape_like(value: str) -> str:
    """Escape LIKE wildcards so user text matches literally (used with ``escape='\\\\'``)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# SQLite refuses expressions nested more than 1,000 deep (SQLITE_MAX_EXPR_DEPTH), and it
# parses "a OR b OR c ..." into a chain as deep as it is long.  Balanced, parenthesised
# groups of at most FAN_OUT terms keep a 2,000-term filter a few levels deep.
FAN_OUT = 16


class _Parenthesised(ColumnElement[bool]):
    # State the compiler reads lives outside the cache key, so never cache statements using it.
    inherit_cache = False
    type = Boolean()

    def __init__(self, inner: ColumnElement[bool]) -> None:
        self.inner = inner


@compiles(_Parenthesised)
def _compile_parenthesised(element: _Parenthesised, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.inner, **kw)})"


def balanced(op: str, clauses: Sequence[ColumnElement[bool]]) -> ColumnElement[bool]:
    """``and_``/``or_`` over many clauses as a shallow tree SQLite accepts."""
    combine = and_ if op == "and" else or_
    clauses = list(clauses)
    while len(clauses) > FAN_OUT:
        clauses = [
            _Parenthesised(combine(*clauses[i : i + FAN_OUT])) if len(clauses[i : i + FAN_OUT]) > 1 else clauses[i]
            for i in range(0, len(clauses), FAN_OUT)
        ]
    return combine(*clauses) if len(clauses) > 1 else clauses[0]


class json_text(ColumnElement[str]):
    """A key of a JSON column as text, the same on both backends.

    ``col[key].as_string()`` is ``col ->> key`` on PostgreSQL, which renders JSON true as
    'true' and 5 as '5'; on SQLite it is ``json_extract``, which returns 1 and the integer
    5, so equality with a text value fails.  We give SQLite the PostgreSQL behaviour.
    """

    # State the compiler reads lives outside the cache key, so never cache statements using it.
    inherit_cache = False
    type = String()

    def __init__(self, column: Column, *keys: str) -> None:
        self.column = column
        self.keys = keys


@compiles(json_text)
def _compile_json_text(element: json_text, compiler: Any, **kw: Any) -> str:
    keys = element.keys
    index = element.column[keys[0]] if len(keys) == 1 else element.column[keys]
    return compiler.process(index.as_string(), **kw)


@compiles(json_text, "sqlite")
def _compile_json_text_sqlite(element: json_text, compiler: Any, **kw: Any) -> str:
    col = compiler.process(element.column, **kw)
    json_path = "$" + "".join('."' + key.replace('"', '\\"') + '"' for key in element.keys)
    path = compiler.process(literal(json_path), **kw)
    return (
        f"CASE json_type({col}, {path}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
        f"ELSE CAST(json_extract({col}, {path}) AS TEXT) END"
    )


class json_number(ColumnElement[Any]):
    """A key of a JSON column as a number, or NULL when it holds no number, the same on both backends.

    A JSON number counts, and so does a string that is a plain decimal number ("10", " -2.5 "): values
    imported from CSV files arrive as text.  Anything else (``"abc"``, ``true``, a list, a missing key)
    is NULL, so an ordering comparison with it is false and never raises: a rule ``seniority gt 9``
    does not match a person whose seniority is "abc".  Compared as numbers, 10 > 9, where as text
    "10" < "9".
    """

    # State the compiler reads lives outside the cache key, so never cache statements using it.
    inherit_cache = False
    type = Numeric()

    def __init__(self, column: Column, key: str) -> None:
        self.column = column
        self.field = key


# Digits with at most one sign and one decimal point; the cast below it cannot fail.
_PG_NUMBER = r"^ *[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+) *$"


@compiles(json_number)
def _compile_json_number(element: json_number, compiler: Any, **kw: Any) -> str:
    value = compiler.process(element.column[element.field], **kw)
    text = compiler.process(element.column[element.field].as_string(), **kw)
    pattern = compiler.process(literal(_PG_NUMBER), **kw)
    return (
        f"CASE jsonb_typeof({value}) WHEN 'number' THEN CAST({text} AS NUMERIC) "
        f"WHEN 'string' THEN CASE WHEN {text} ~ {pattern} THEN CAST(btrim({text}) AS NUMERIC) END END"
    )


@compiles(json_number, "sqlite")
def _compile_json_number_sqlite(element: json_number, compiler: Any, **kw: Any) -> str:
    col = compiler.process(element.column, **kw)
    json_path = '$."' + element.field.replace('"', '\\"') + '"'
    path = compiler.process(literal(json_path), **kw)
    raw = f"json_extract({col}, {path})"
    # SQLite has no regular expressions: a number is an optional sign, then digits and at most one
    # point, with a digit somewhere (GLOB's [^...] is "none of").
    t = f"trim({raw})"
    unsigned = f"ltrim({t}, '+-')"
    is_number = (
        f"length({t}) - length({unsigned}) <= 1 AND {unsigned} <> '' AND {unsigned} NOT GLOB '*[^0-9.]*' "
        f"AND {unsigned} NOT GLOB '*.*.*' AND {unsigned} GLOB '*[0-9]*'"
    )
    return (
        f"CASE json_type({col}, {path}) WHEN 'integer' THEN {raw} WHEN 'real' THEN {raw} "
        f"WHEN 'text' THEN CASE WHEN {is_number} THEN CAST({t} AS REAL) END END"
    )


class exact_like(ColumnElement[bool]):
    """Case-sensitive contains / starts with / ends with, with the value matched literally.

    PostgreSQL's LIKE is case-sensitive; SQLite's is not (for ASCII), so SQLite gets GLOB,
    whose wildcards * ? [ we escape by bracketing them.
    """

    # State the compiler reads lives outside the cache key, so never cache statements using it.
    inherit_cache = False
    type = Boolean()

    def __init__(self, column: Column, mode: str, value: str) -> None:
        self.column = column
        self.mode = mode
        self.value = value


def _wrap(mode: str, text: str, any_: str) -> str:
    return {"co": f"{any_}{text}{any_}", "sw": f"{text}{any_}", "ew": f"{any_}{text}"}[mode]


@compiles(exact_like)
def _compile_exact_like(element: exact_like, compiler: Any, **kw: Any) -> str:
    pattern = _wrap(element.mode, escape_like(element.value), "%")
    return compiler.process(element.column.like(pattern, escape="\\"), **kw)


@compiles(exact_like, "sqlite")
def _compile_exact_like_sqlite(element: exact_like, compiler: Any, **kw: Any) -> str:
    escaped = "".join(f"[{c}]" if c in "*?[" else c for c in element.value)
    pattern = compiler.process(literal(_wrap(element.mode, escaped, "*")), **kw)
    return f"({compiler.process(element.column, **kw)} GLOB {pattern})"


def ci_like(column: Column, mode: str, value: str) -> ColumnElement[bool]:
    """Case-insensitive contains / starts with / ends with; % and _ in the value match literally."""
    return func.lower(column).like(_wrap(mode, escape_like(value.lower()), "%"), escape="\\")


# --- multi-valued attributes kept as a JSON list (User.extra["emails"]) -----------------------

_ELEMENT = "scim_value"  # the alias of one element of the list inside json_elements_exist


class json_elements_exist(ColumnElement[bool]):
    """``EXISTS`` an element of the JSON list ``column[key]`` for which ``condition`` holds.

    ``condition`` is written over :class:`json_element` values.  A missing key, or one that
    is not a list, has no elements.
    """

    # State the compiler reads lives outside the cache key, so never cache statements using it.
    inherit_cache = False
    type = Boolean()

    def __init__(self, column: Column, key: str, condition: ColumnElement[bool]) -> None:
        self.column = column
        self.field = key
        self.condition = condition


@compiles(json_elements_exist)
def _compile_elements_exist(element: json_elements_exist, compiler: Any, **kw: Any) -> str:
    col = compiler.process(element.column, **kw)
    key = compiler.process(literal(element.field), **kw)
    items = f"{col} -> {key}"
    return (
        f"EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof({items}) = 'array' "
        f"THEN {items} ELSE '[]'::jsonb END) AS {_ELEMENT}(value) "
        f"WHERE {compiler.process(element.condition, **kw)})"
    )


@compiles(json_elements_exist, "sqlite")
def _compile_elements_exist_sqlite(element: json_elements_exist, compiler: Any, **kw: Any) -> str:
    col = compiler.process(element.column, **kw)
    path = compiler.process(literal("$." + '"' + element.field.replace('"', '\\"') + '"'), **kw)
    return (
        f"EXISTS (SELECT 1 FROM json_each({col}, {path}) AS {_ELEMENT} "
        f"WHERE json_type({col}, {path}) = 'array' AND ({compiler.process(element.condition, **kw)}))"
    )


class json_element(ColumnElement[str]):
    """A field of the current element inside :class:`json_elements_exist`, as text (JSON true is 'true')."""

    inherit_cache = False
    type = String()

    def __init__(self, field: str) -> None:
        self.field = field


@compiles(json_element)
def _compile_json_element(element: json_element, compiler: Any, **kw: Any) -> str:
    return f"({_ELEMENT}.value ->> {compiler.process(literal(element.field), **kw)})"


@compiles(json_element, "sqlite")
def _compile_json_element_sqlite(element: json_element, compiler: Any, **kw: Any) -> str:
    path = compiler.process(literal("$." + '"' + element.field.replace('"', '\\"') + '"'), **kw)
    value = f"{_ELEMENT}.value"
    return (
        f"(CASE json_type({value}, {path}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
        f"ELSE CAST(json_extract({value}, {path}) AS TEXT) END)"
    )


def json_element_true(field: str) -> ColumnElement[bool]:
    """A boolean field of the current element: true, or the string "true" some IdPs send."""
    return func.lower(func.coalesce(json_element(field), "")) == "true"
