"""Parse a SCIM filter (RFC 7644 §3.4.2.2) into a small, position-carrying tree.

Lexing and parsing are scim2-filter-parser's (a sly LALR grammar, iterative, so a
1,000-term ``or`` parses fine; the "26 comparisons" limit of 0.7.0 lives only in its
SQL transpiler, which we do not use).  We wrap it thinly to fix what 0.7.0 gets wrong:

* the lexer keeps no type on literals (``true`` and ``"true"`` both arrive as the string
  "true") and no positions; our lexer subclass tags each value with its JSON type and
  each name/value with its character offset, so errors can say *where*;
* string literals cannot contain an escaped quote and are not JSON-unescaped; numbers are
  single digits;
* its precedence table gives ``and`` and ``or`` the same precedence, so ``a or b and c``
  parses as ``(a or b) and c``.  RFC 7644 §3.4.2.2 says "and" binds tighter, so we
  re-associate every unparenthesised chain of and/or ourselves.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scim2_filter_parser import ast as lib
from scim2_filter_parser.lexer import SCIMLexer
from scim2_filter_parser.parser import SCIMParser

from provisioning.i18n import N_, Message
from provisioning.text import text_problem

MAX_LENGTH = 100_000  # characters
MAX_COMPARISONS = 2_000
MAX_DEPTH = 16  # nested parentheses / brackets

COMPARE_OPS = ("eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le")


class InvalidFilter(Exception):
    """A filter SCIM cannot evaluate: answered as 400 with scimType invalidFilter (RFC 7644 §3.12)."""

    scim_type = "invalidFilter"
    status = 400

    def __init__(self, message: str, position: int | None = None, *, unknown_attribute: str | None = None) -> None:
        where = f" (at position {position})" if position is not None else ""
        super().__init__(message + where)
        self.message = message
        self.position = position
        # Set when the problem is an attribute name we do not know (as written, without its URN).
        self.unknown_attribute = unknown_attribute


# --- the tree we hand to translators ------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """A comparison value with its JSON type: "string", "number", "boolean" or "null"."""

    type: str
    value: Any  # the JSON value: str, int or float, bool, or None
    position: int


@dataclass(frozen=True)
class Path:
    """``[uri:]name[.sub]`` as written (case preserved); ``text`` is the path as typed."""

    uri: str | None
    name: str
    sub: str | None
    position: int

    @property
    def text(self) -> str:
        base = f"{self.uri}:{self.name}" if self.uri else self.name
        return f"{base}.{self.sub}" if self.sub else base


@dataclass(frozen=True)
class Compare:
    path: Path
    op: str  # lower-case, one of COMPARE_OPS or "pr"
    value: Value | None


@dataclass(frozen=True)
class Logical:
    op: str  # "and" | "or"
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class ValuePath:
    """``emails[type eq "work" and value co "@x"]``: ``filter`` applies to one value of ``path``."""

    path: Path
    filter: Node


Node = Compare | Logical | Not | ValuePath


# --- lexing -----------------------------------------------------------------------------


class _Name(str):
    position: int = 0


def _name(value: str, position: int) -> _Name:
    name = _Name(value)
    name.position = position
    return name


if TYPE_CHECKING:  # sly's lexer and parser classes get ``_`` (the rule decorator) in their namespace

    def _(*patterns: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...


class _Lexer(SCIMLexer):
    """scim2-filter-parser's lexer, with typed, positioned values and JSON strings/numbers."""

    tokens = SCIMLexer.tokens

    # Redefining a rule keeps its place in the base class's rule order (sly lexer inheritance).
    @_(r"\.[a-zA-Z$][a-zA-Z0-9_$-]*")
    def SUBATTR(self, t):
        t.value = _name(t.value[1:], t.index + 1)
        return t

    @_(r"(?i:false)(?![a-zA-Z0-9_$:.-])")
    def FALSE(self, t):
        t.value = Value("boolean", False, t.index)
        return t

    @_(r"(?i:true)(?![a-zA-Z0-9_$:.-])")
    def TRUE(self, t):
        t.value = Value("boolean", True, t.index)
        return t

    @_(r"(?i:null)(?![a-zA-Z0-9_$:.-])")
    def NULL(self, t):
        t.value = Value("null", None, t.index)
        return t

    @_(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
    def NUMBER(self, t):
        try:
            number = json.loads(t.value)
        except ValueError:  # a leading zero ("01"): JSON numbers (RFC 8259 §6) have none
            raise InvalidFilter(Message(N_("%(value)r is not a JSON number."), value=t.value), t.index) from None
        t.value = Value("number", number, t.index)
        return t

    @_(r"[a-zA-Z]+:[a-zA-Z0-9:\._-]+:")
    def SCHEMA_URI(self, t):
        t.value = _name(t.value.rstrip(":"), t.index)
        return t

    @_(r'"(?:[^"\\]|\\.)*"')
    def COMP_VALUE(self, t):
        try:
            text = json.loads(t.value)
        except ValueError:
            raise InvalidFilter(
                Message(N_("The string value is not valid JSON (bad escape sequence).")), t.index
            ) from None
        # An escape can spell what the request's own text may not hold (\u0000, \ud800): the input rule.
        problem = text_problem(text)
        if problem:
            raise InvalidFilter(Message(N_("The string value %(problem)s."), problem=problem), t.index)
        t.value = Value("string", text, t.index)
        return t

    @_(r"[a-zA-Z$][a-zA-Z0-9_$-]*")
    def ATTRNAME(self, t):  # the base regex; keyword remapping (eq, and, ...) happens before this
        t.value = _name(t.value, t.index)
        return t

    def error(self, t):
        if t.value.startswith('"'):
            raise InvalidFilter(Message(N_("The string value has no closing quote.")), t.index)
        raise InvalidFilter(Message(N_("Unexpected character %(char)r."), char=t.value[0]), t.index)


# --- parsing ----------------------------------------------------------------------------


def _parse_error(token, length: int) -> None:
    if token is None:
        raise InvalidFilter(
            Message(N_("The filter ends too early (an operand or a closing bracket is missing).")), length
        )
    shown = token.value.value if isinstance(token.value, Value) else token.value
    raise InvalidFilter(Message(N_("Unexpected %(token)r here."), token=shown), token.index)


def parse(text: str) -> Node:
    """Parse a filter into a :data:`Node` tree, raising :class:`InvalidFilter` with a position."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidFilter(Message(N_("The filter is empty.")), 0 if isinstance(text, str) else None)
    if len(text) > MAX_LENGTH:
        raise InvalidFilter(Message(N_("The filter is longer than %(max)s characters."), max=MAX_LENGTH), MAX_LENGTH)
    problem = text_problem(text)
    if problem:  # a caller that skipped the edge's check (a stored rule, the CLI) still gets a clear refusal
        raise InvalidFilter(Message(N_("The filter %(problem)s."), problem=problem), None)
    parser = SCIMParser()
    # The library's own handler raises without a position.
    parser.error = lambda token: _parse_error(token, len(text))
    tree = parser.parse(_Lexer().tokenize(text))
    if tree is None:
        raise InvalidFilter(Message(N_("The filter is empty.")), 0)
    return _convert(tree, 0, [0], inside_brackets=False)


def _path(attr_path: lib.AttrPath) -> Path:
    name = attr_path.attr_name
    if isinstance(name, lib.Filter):  # only a comparison's path may be ``attr[filter].sub`` (_bracketed_compare)
        raise InvalidFilter(
            Message(N_("A sub-attribute cannot follow ']' here; put the condition inside the brackets.")),
            getattr(name.namespace.attr_name, "position", None),
        )
    uri = attr_path.uri
    sub = attr_path.sub_attr.value if attr_path.sub_attr is not None else None
    position = uri.position if uri is not None else name.position
    return Path(str(uri) if uri is not None else None, str(name), str(sub) if sub is not None else None, position)


def _convert(f: lib.Filter, depth: int, count: list[int], *, inside_brackets: bool) -> Node:
    if depth > MAX_DEPTH:
        raise InvalidFilter(
            Message(N_("The filter nests parentheses or brackets more than %(max)s deep."), max=MAX_DEPTH), None
        )
    expr = f.expr
    if f.namespace is not None:  # attrPath "[" valFilter "]"
        path = _path(f.namespace)
        if inside_brackets:
            raise InvalidFilter(
                Message(N_("A complex attribute filter cannot be nested inside another one.")), path.position
            )
        if path.sub is not None:
            raise InvalidFilter(
                Message(N_("%(name)r is not a complex attribute that can be filtered with []."), name=path.text),
                path.position,
            )
        node: Node = ValuePath(path, _convert(expr, depth + 1, count, inside_brackets=True))
    elif isinstance(expr, lib.Filter):  # "(" filter ")", "not" "(" filter ")", or a valuePath
        grouped = expr.namespace is None
        node = _convert(expr, depth + 1 if grouped else depth, count, inside_brackets=inside_brackets)
    elif isinstance(expr, lib.AttrExpr):
        count[0] += 1
        if count[0] > MAX_COMPARISONS:
            raise InvalidFilter(Message(N_("The filter has more than %(max)s comparisons."), max=MAX_COMPARISONS), None)
        op = str(expr.value).lower()
        value = expr.comp_value.value if expr.comp_value is not None else None
        if isinstance(expr.attr_path.attr_name, lib.Filter):
            node = _bracketed_compare(expr.attr_path.attr_name, op, value, depth, count, inside_brackets)
        else:
            node = Compare(_path(expr.attr_path), op, value)
    elif isinstance(expr, lib.LogExpr):
        node = _chain(expr, depth, count, inside_brackets)
    else:  # pragma: no cover - the grammar produces nothing else
        raise InvalidFilter(Message(N_("The filter could not be understood.")), None)
    return Not(node) if f.negated else node


def _bracketed_compare(
    bracket: lib.Filter, op: str, value: Value | None, depth: int, count: list[int], inside_brackets: bool
) -> Node:
    """``emails[type eq "work"].value eq "x"`` as ``emails[type eq "work" and value eq "x"]``.

    RFC 7644 §3.4.2.2's grammar has ``attrPath "[" valFilter "]"`` but no sub-attribute after the
    bracket; that form is the PATCH path of §3.5.2 (``valuePath "." subAttr``).  Microsoft Entra ID
    sends it as a GET filter all the same when a user is matched on the work email ("Tutorial:
    Develop and plan provisioning for a SCIM endpoint": ``emails[type eq "work"].value eq "..."``),
    and both forms mean "one value of the attribute matches both conditions", so we accept it as
    the bracketed conjunction, for every complex attribute, wherever the filter grammar is used.
    """
    attr_path = bracket.namespace  # the library parks the ".sub" after "]" on the bracket's path
    sub = attr_path.sub_attr.value if attr_path.sub_attr is not None else None
    outer = Path(
        str(attr_path.uri) if attr_path.uri is not None else None,
        str(attr_path.attr_name),
        None,
        attr_path.uri.position if attr_path.uri is not None else attr_path.attr_name.position,
    )
    if inside_brackets:
        raise InvalidFilter(
            Message(N_("A complex attribute filter cannot be nested inside another one.")), outer.position
        )
    if sub is None:  # ``emails[type eq "work"] eq "x"``
        raise InvalidFilter(
            Message(
                N_("%(name)s[...] compared needs a sub-attribute after ']' (like .value), or the condition inside."),
                name=outer.text,
            ),
            outer.position,
        )
    condition = _convert(bracket.expr, depth + 1, count, inside_brackets=True)
    compare = Compare(Path(None, str(sub), None, sub.position), op, value)
    items = condition.items if isinstance(condition, Logical) and condition.op == "and" else (condition,)
    return ValuePath(outer, Logical("and", (*items, compare)))


def _chain(log: lib.LogExpr, depth: int, count: list[int], inside_brackets: bool) -> Node:
    """Re-associate an unparenthesised and/or chain so that "and" binds tighter than "or".

    Walks the (left-deep) chain with an explicit stack: a 1,000-term chain must not recurse.
    """
    operands: list[lib.Filter] = []
    ops: list[str] = []
    stack: list[object] = [log]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            ops.append(item.lower())
        elif isinstance(item, lib.LogExpr):
            stack.extend((item.expr2, str(item.op), item.expr1))
        elif (
            isinstance(item, lib.Filter)
            and isinstance(item.expr, lib.LogExpr)
            and not item.negated
            and item.namespace is None
        ):
            stack.append(item.expr)
        else:
            operands.append(item)
    converted = [_convert(o, depth, count, inside_brackets=inside_brackets) for o in operands]
    alternatives: list[Node] = []
    run = [converted[0]]
    for op, operand in zip(ops, converted[1:]):
        if op == "and":
            run.append(operand)
        else:
            alternatives.append(run[0] if len(run) == 1 else Logical("and", tuple(run)))
            run = [operand]
    alternatives.append(run[0] if len(run) == 1 else Logical("and", tuple(run)))
    return alternatives[0] if len(alternatives) == 1 else Logical("or", tuple(alternatives))
