"""SCIM filters (RFC 7644 §3.4.2.2) and sortBy (§3.4.2.3) translated to SQLAlchemy expressions.

    stmt = select(User).where(User.tenant_id == tenant_id, compile_filter(text, "User", tenant_id))

Every filter becomes one SQL condition over :class:`User` or :class:`Group`; nothing is
filtered in Python.  Conditions are two-valued (a NULL attribute makes a comparison false,
never unknown), so ``not (title eq "x")`` includes users without a title, as "ne" does.
Anything we cannot evaluate exactly -- bad syntax, an unknown attribute, a value of the
wrong type, "gt" on a boolean -- raises :class:`InvalidFilter` with the position.
A custom attribute (JSON, no declared type) compares as text, except "gt"/"ge"/"lt"/"le" with an
unquoted number, which compare numerically and never match a value that is no number.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import String, and_, cast, false, func, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement

from provisioning.filters.attributes import (
    ANY,
    BOOLEAN,
    CUSTOM_USER,
    DATETIME,
    ID,
    SCHEMAS,
    STRING,
    Attribute,
    Complex,
    Entry,
    custom_attribute,
    schemas_condition,
)
from provisioning.filters.parser import (
    Compare,
    InvalidFilter,
    Logical,
    Node,
    Not,
    Path,
    Value,
    ValuePath,
    parse,
)
from provisioning.i18n import N_, Message
from provisioning.identity_keys import identity_key
from provisioning.sql import Column, balanced, ci_like, exact_like

__all__ = ["InvalidFilter", "compile_filter", "sort_key", "parse"]

Resource = Literal["User", "Group"]
_ORDERING = {"gt": "__gt__", "ge": "__ge__", "lt": "__lt__", "le": "__le__"}


def compile_filter(
    text: str,
    resource: Resource,
    tenant_id: int,
    *,
    custom_attributes: Collection[str] | None = None,
    extra_attributes: Mapping[str, Entry] | None = None,
) -> ColumnElement[bool]:
    """Translate a SCIM filter into a condition over ``resource``'s model.

    ``tenant_id`` scopes the sub-queries (group memberships); the caller still adds
    ``X.tenant_id == tenant_id``.  ``custom_attributes`` names the tenant's extension
    attributes: when given, they may also be written without their URN and no other
    extension name is accepted.  ``extra_attributes`` adds attributes only some callers
    offer (automatic group rules add ``enrollments``).
    """
    return _Translator(resource, tenant_id, custom_attributes, extra_attributes).node(parse(text), None)


def sort_key(attr_path: str, resource: Resource, *, custom_attributes: Collection[str] | None = None) -> Column:
    """The column expression to ORDER BY for a sortBy attribute (RFC 7644 §3.4.2.3).

    Strings that are not caseExact sort ignoring case; a multi-valued attribute sorts by its
    primary value.  Attributes kept in other tables (groups, members) cannot be sorted on.
    """
    tree = parse(f"{attr_path} pr") if isinstance(attr_path, str) else None
    if not isinstance(tree, Compare):
        raise InvalidFilter(Message(N_("sortBy %(path)r is not an attribute path."), path=attr_path), 0)
    translator = _Translator(resource, 0, custom_attributes, None)
    parent, attr = translator.resolve(tree.path, None)
    if attr is None or (parent is not None and parent.exists is not None):
        raise InvalidFilter(Message(N_("Cannot sort by %(path)r."), path=attr_path), 0)
    column = attr.sql()
    return func.lower(column) if attr.type in (STRING, ANY) and not attr.case_exact else column


class _Translator:
    def __init__(
        self, resource: str, tenant_id: int, custom: Collection[str] | None, extra: Mapping[str, Entry] | None
    ) -> None:
        if resource not in SCHEMAS:
            raise ValueError(f"unknown SCIM resource type {resource!r}")
        self.schema = SCHEMAS[resource]
        self.tenant_id = tenant_id
        self.custom = None if custom is None else {name.lower(): name for name in custom}
        self.extra = {k.lower(): v for k, v in (extra or {}).items()}

    # --- the tree ----------------------------------------------------------------------

    def node(self, node: Node, scope: Complex | None) -> ColumnElement[bool]:
        if isinstance(node, Compare):
            return self.compare(node, scope)
        if isinstance(node, Not):
            return not_(self.node(node.item, scope))
        if isinstance(node, ValuePath):
            return self.value_path(node, scope)
        if isinstance(node, Logical):
            items = list(node.items)
            clauses = self._in_lists(items, scope) if node.op == "or" else []
            clauses += [self.node(item, scope) for item in items]
            return balanced(node.op, clauses)
        raise InvalidFilter(Message(N_("The filter could not be understood.")), None)  # pragma: no cover

    def _in_lists(self, items: list[Node], scope: Complex | None) -> list[ColumnElement[bool]]:
        """``a eq 1 or a eq 2 or ...`` on one column becomes ``a IN (1, 2, ...)``; removes them from items."""
        groups: dict[tuple[str, str], tuple[Attribute, list[Any], list[Node]]] = {}
        for item in items:
            if not isinstance(item, Compare) or item.op != "eq" or item.value is None:
                continue
            parent, attr = self.resolve(item.path, scope)
            if (
                attr is None
                or attr.type not in (STRING, ANY, ID)
                or item.value.type == "null"
                or (parent is not None and parent.exists is not None and scope is None)
                or (parent is not None and parent.also is not None and scope is None)
            ):
                continue
            key = (parent.name if parent else "", attr.name)
            groups.setdefault(key, (attr, [], []))
            groups[key][1].append(self.operand(attr, item, keyed=True))
            groups[key][2].append(item)
        clauses: list[ColumnElement[bool]] = []
        for attr, values, nodes in groups.values():
            if len(nodes) < 2:
                continue
            for n in nodes:
                items.remove(n)
            values = [v for v in values if v is not None]  # ids that cannot exist
            column = attr.sql()
            if attr.key is not None:
                column = attr.key()
            elif attr.type in (STRING, ANY) and not attr.case_exact:
                column = func.lower(column)
            clauses.append(column.in_(values) if values else false())
        return clauses

    def value_path(self, node: ValuePath, scope: Complex | None) -> ColumnElement[bool]:
        entry = self._entry(node.path)
        if not isinstance(entry, Complex):
            raise InvalidFilter(
                Message(N_("%(name)r is not a complex attribute; [] needs one."), name=node.path.text),
                node.path.position,
            )
        condition = self.node(node.filter, entry)
        condition = entry.exists(self.tenant_id, condition) if entry.exists else condition
        if entry.also is not None:  # any of the attribute's values (RFC 7644 §3.4.2.2)
            condition = or_(condition, self._also(entry, self.node(node.filter, entry.also)))
        return condition

    def _also(self, entry: Complex, condition: ColumnElement[bool]) -> ColumnElement[bool]:
        also = entry.also
        assert also is not None
        return also.exists(self.tenant_id, condition) if also.exists else condition

    def compare(self, node: Compare, scope: Complex | None) -> ColumnElement[bool]:
        if scope is None and node.path.name.lower() == "schemas" and node.path.sub is None:
            return self.schemas(node)
        parent, attr = self.resolve(node.path, scope)
        related = parent is not None and parent.exists is not None and scope is None
        if attr is None:  # "pr" on a complex attribute without a default sub-attribute
            condition: ColumnElement[bool] = true()
        else:
            condition = self.condition(attr, node)
        if related:
            assert parent is not None and parent.exists is not None
            condition = parent.exists(self.tenant_id, condition)
        if scope is None and parent is not None and parent.also is not None and attr is not None:
            # "emails co x": any of the attribute's values (RFC 7644 §3.4.2.2), here or in its other list.
            condition = or_(condition, self._also(parent, self.condition(parent.also.subs[attr.name.lower()], node)))
        return condition

    def schemas(self, node: Compare) -> ColumnElement[bool]:
        if node.op == "pr":
            return true()
        if node.op not in ("eq", "ne") or node.value is None or node.value.type != "string":
            raise InvalidFilter(
                Message(N_("schemas can only be compared with eq or ne and a schema URN.")), node.path.position
            )
        condition = schemas_condition(self.schema.resource, node.value.value)
        return condition if node.op == "eq" else not_(condition)

    # --- names -------------------------------------------------------------------------

    def _entry(self, path: Path) -> Entry:
        """Find the attribute a path names (RFC 7644 §3.10; names are case-insensitive, §3.4.2.2)."""
        name = path.name.lower()
        if path.uri is None:
            for attrs in self.schema.by_urn.values():
                if name in attrs:
                    return attrs[name]
            if name in self.extra:
                return self.extra[name]
            if self.custom is not None and name in self.custom and self.schema.resource == "User":
                return custom_attribute(self.custom[name])
        elif path.uri.lower() in self.schema.by_urn:
            attrs = self.schema.by_urn[path.uri.lower()]
            if name in attrs:
                return attrs[name]
        elif path.uri.lower() == CUSTOM_USER.lower() and self.schema.resource == "User":
            if self.custom is None:
                return custom_attribute(path.name)
            if name in self.custom:
                return custom_attribute(self.custom[name])
        raise InvalidFilter(
            Message(
                N_("Unknown attribute %(name)r for %(resource)s resources."),
                name=path.text,
                resource=self.schema.resource,
            ),
            path.position,
            unknown_attribute=path.name,
        )

    def resolve(self, path: Path, scope: Complex | None) -> tuple[Complex | None, Attribute | None]:
        """(complex parent or None, attribute) for a path; the attribute is None for "pr" on a bare complex."""
        if scope is not None:  # inside brackets: a sub-attribute of the bracketed attribute
            sub = scope.subs.get(path.name.lower())
            if path.uri is not None or path.sub is not None or sub is None:
                raise InvalidFilter(
                    Message(N_("%(name)r has no sub-attribute %(sub)r."), name=scope.name, sub=path.text),
                    path.position,
                )
            return scope, sub
        entry = self._entry(path)
        if isinstance(entry, Attribute):
            if path.sub is not None:
                raise InvalidFilter(
                    Message(N_("%(name)r has no sub-attribute %(sub)r."), name=entry.name, sub=path.sub),
                    path.position,
                )
            return None, entry
        sub_name = path.sub or entry.default
        if sub_name is None:
            return entry, None
        sub = entry.subs.get(sub_name.lower())
        if sub is None:
            raise InvalidFilter(
                Message(N_("%(name)r has no sub-attribute %(sub)r."), name=entry.name, sub=path.sub),
                path.position,
            )
        return entry, sub

    # --- comparisons -------------------------------------------------------------------

    def condition(self, attr: Attribute, node: Compare) -> ColumnElement[bool]:
        column = attr.sql()
        op, value = node.op, node.value
        present: ColumnElement[bool] = column.is_not(None) if attr.nullable else true()
        if attr.type in (STRING, ANY):
            present = and_(present, column != "") if attr.nullable else column != ""
        if op == "pr":
            return present
        assert value is not None
        if value.type == "null":  # not in the RFC's grammar of operators, but IdPs send it
            if op in ("eq", "ne"):
                return not_(present) if op == "eq" else present
            raise InvalidFilter(
                Message(N_("null can only be compared with eq or ne, not %(op)s."), op=op), value.position
            )
        if op in _ORDERING and value.type == "number" and attr.number is not None:
            # A number compares numerically; a value that is no number ("abc", missing) is NULL: no match.
            number = attr.number()
            return and_(number.is_not(None), getattr(number, _ORDERING[op])(value.value))
        if attr.type == BOOLEAN and op not in ("eq", "ne"):
            raise InvalidFilter(
                Message(N_("%(op)r cannot compare the boolean %(name)r (RFC 7644 §3.4.2.2)."), op=op, name=attr.name),
                node.path.position,
            )
        if attr.type in (BOOLEAN, DATETIME) and op in ("co", "sw", "ew"):
            raise InvalidFilter(
                Message(N_("%(op)r cannot compare the %(type)s %(name)r."), op=op, type=attr.type, name=attr.name),
                node.path.position,
            )
        if op in ("eq", "ne") and attr.key is not None and value.type == "string":
            equal = and_(attr.key().is_not(None), attr.key() == self.operand(attr, node, keyed=True))
            return equal if op == "eq" else not_(equal)
        operand = self.operand(attr, node)
        if attr.type == ID and op in ("co", "sw", "ew"):
            column, operand = cast(column, String), str(value.value)
        elif operand is None:  # an id that is not a number matches nothing
            if op in ("eq", "ne"):
                return false() if op == "eq" else true()
            raise InvalidFilter(Message(N_("%(name)r values are numbers here."), name=attr.name), value.position)
        folded = attr.type in (STRING, ANY) and not attr.case_exact
        if op in ("co", "sw", "ew"):
            if operand == "":
                return column.is_not(None)
            match = ci_like(column, op, operand) if folded else exact_like(column, op, operand)
            return and_(column.is_not(None), match) if attr.nullable else match
        left = func.lower(column) if folded else column
        if op in ("eq", "ne"):
            equal = left == operand
            if attr.nullable:
                equal = and_(column.is_not(None), equal)
            return equal if op == "eq" else not_(equal)
        compared = getattr(left, _ORDERING[op])(operand)
        return and_(column.is_not(None), compared) if attr.nullable else compared

    def operand(self, attr: Attribute, node: Compare, *, keyed: bool = False) -> Any:
        """The comparison value converted to the attribute's type (case-folded when not caseExact).

        ``keyed``: an equality on an attribute with an identity key compares that key instead.
        """
        value = node.value
        assert value is not None
        raw = value.value
        if keyed and attr.key is not None and value.type == "string":
            return identity_key(raw)
        if attr.type == BOOLEAN:
            if value.type == "boolean":
                return raw
            # Entra ID and others send "True"/"False" as strings.
            if value.type == "string" and raw.strip().lower() in ("true", "false"):
                return raw.strip().lower() == "true"
            raise InvalidFilter(
                Message(N_("%(name)r is a boolean; compare it with true or false."), name=attr.name), value.position
            )
        if attr.type == DATETIME:
            return _datetime(value, attr.name)
        if attr.type == ID:
            if value.type not in ("string", "number"):
                raise InvalidFilter(
                    Message(N_("%(name)r is an id; compare it with a string."), name=attr.name), value.position
                )
            text = str(raw).strip()
            return int(text) if text.isdigit() and len(text) < 19 else None
        if attr.type == ANY:  # JSON values compare as text: true -> 'true', 5 -> '5'
            if value.type not in ("string", "number", "boolean"):
                raise InvalidFilter(
                    Message(N_("Cannot compare %(name)r with %(type)s."), name=attr.name, type=value.type),
                    value.position,
                )
            text = raw if value.type == "string" else json.dumps(raw)
            return text if attr.case_exact else text.lower()
        if value.type != "string":
            raise InvalidFilter(
                Message(N_("%(name)r is a string; put the value in double quotes."), name=attr.name), value.position
            )
        return raw if attr.case_exact else raw.lower()


def _datetime(value: Value, name: str) -> datetime:
    """RFC 7643 §2.3.5 dateTime (xsd:dateTime); a bare date means midnight UTC."""
    if value.type == "string":
        text = value.value.strip()
        try:
            parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "zZ" and text else text)
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
    raise InvalidFilter(
        Message(N_('%(name)r is a dateTime; give it like "2024-01-31T12:00:00Z".'), name=name), value.position
    )
