"""PATCH (RFC 7644 §3.5.2) applied to a resource's SCIM document.

The user's (or group's) current document is patched in memory, then saved as a whole like
a PUT.  Group members are never part of that document: member operations become
("add" | "remove" | "replace", ids) steps that the membership service runs set-based,
so a member change costs the same in a 10-member and a 100,000-member group.

Accepted quirks of real identity providers: capitalised ops ("Add", "Replace", "Remove",
Entra ID), path-less ops whose value has dotted ("name.givenName") or URN-qualified keys,
read-only attributes sent back in a value (Okta's group rename sends the id), member
removal with a value list instead of a filter (Entra ID).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scim2_filter_parser import ast as fast
from scim2_filter_parser.lexer import SCIMLexer
from scim2_filter_parser.parser import SCIMParser

from scim.errors import (
    InvalidFilterError,
    InvalidPathError,
    InvalidSyntaxError,
    InvalidValueError,
    MutabilityError,
    NoTargetError,
)
from scim.resources import (
    _KNOWN_ENTERPRISE,
    _KNOWN_USER,
    CUSTOM_SCHEMA,
    ENTERPRISE_SCHEMA,
    GROUP_SCHEMA,
    USER_SCHEMA,
    member_ids,
)

PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MAX_OPERATIONS = 1000
MAX_FILTER_LENGTH = 200_000  # characters: a remove of a few thousand members by "or" still fits
MULTI_VALUED = {
    "emails",
    "phoneNumbers",
    "ims",
    "photos",
    "addresses",
    "entitlements",
    "roles",
    "x509Certificates",
    "members",
    "groups",
}
READ_ONLY = {"id", "meta", "groups", "schemas"}
_PATH_RE = re.compile(r"^(?P<attr>[A-Za-z$][\w$-]*)(?:\[(?P<filter>.*)\])?(?:\.(?P<sub>[A-Za-z$][\w$-]*))?$", re.S)


@dataclass
class Path:
    urn: str | None  # an extension URN, or None for the core schema
    attr: str  # "" when the path names a whole extension
    filter: Any = None  # a parsed value filter, for multi-valued attributes
    sub: str | None = None
    text: str = ""


@dataclass
class Operation:
    op: str  # add | remove | replace
    path: Path | None
    value: Any
    has_value: bool


class Resource:
    """What PATCH needs to know of a resource type: its URNs and its attribute names."""

    def __init__(self, core_urn: str, extensions: dict[str, dict[str, str] | None], core: dict[str, str]) -> None:
        self.core_urn = core_urn
        self.extensions = extensions  # URN -> known attribute names (None: any name, e.g. custom)
        self.core = core  # lower-case name -> canonical name

    def split_urn(self, text: str) -> tuple[str | None, str]:
        lowered = text.lower()
        for urn in sorted([self.core_urn, *self.extensions], key=len, reverse=True):
            if lowered == urn.lower():
                return urn, ""
            if lowered.startswith(urn.lower() + ":"):
                return (None if urn == self.core_urn else urn), text[len(urn) + 1 :]
        if lowered.startswith("urn:"):
            raise InvalidPathError(f"{text!r} names a schema this service does not serve.")
        return None, text

    def resolve(self, urn: str | None, name: str) -> str | None:
        """The URN of an attribute named without one: the core schema, or else the one extension
        that defines it.  RFC 7644 §3.10 lets clients omit only core URNs, but Entra ID's reference
        sample ("Example 5", use-scim-to-provision-users-and-groups) patches path "manager"."""
        if urn is not None or name.lower() in self.core:
            return urn
        owners = [u for u, known in self.extensions.items() if known is not None and name.lower() in known]
        return owners[0] if len(owners) == 1 else None

    def canonical(self, urn: str | None, name: str, strict: bool = True) -> str | None:
        known = self.core if urn is None else self.extensions[urn]
        if known is None:
            return name
        found = known.get(name.lower())
        if found is None and strict:
            raise InvalidPathError(f"{name!r} is not an attribute of {urn or self.core_urn}.")
        return found


USER = Resource(
    USER_SCHEMA,
    {ENTERPRISE_SCHEMA: _KNOWN_ENTERPRISE, CUSTOM_SCHEMA: None},
    {**_KNOWN_USER, **{k.lower(): k for k in ("name", "active")}},
)
GROUP = Resource(
    GROUP_SCHEMA, {}, {k.lower(): k for k in ("id", "meta", "schemas", "displayName", "externalId", "members")}
)


if TYPE_CHECKING:  # sly's lexer classes get ``_`` (the rule decorator) in their namespace

    def _(*patterns: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...


class _PathLexer(SCIMLexer):
    """The library's lexer with RFC 7644 §3.4.2.2's literals as the ABNF spells them: case-insensitive
    (RFC 5234 §2.3), so Entra's ``roles[primary eq True]`` lexes; whole numbers, not single digits.
    Literals stay text here: :func:`matches` compares text, and :func:`_typed` gives them a type."""

    tokens = SCIMLexer.tokens

    # Redefining a rule keeps its place in the base class's rule order (sly lexer inheritance).
    @_(r"(?i:false)(?![a-zA-Z0-9_$:.-])")
    def FALSE(self, t):
        t.value = "false"
        return t

    @_(r"(?i:true)(?![a-zA-Z0-9_$:.-])")
    def TRUE(self, t):
        t.value = "true"
        return t

    @_(r"(?i:null)(?![a-zA-Z0-9_$:.-])")
    def NULL(self, t):
        t.value = "null"
        return t

    @_(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
    def NUMBER(self, t):
        return t


def parse_filter(text: str, where: str):
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidFilterError(f"The value filter in a path is longer than {MAX_FILTER_LENGTH} characters.")
    try:
        return SCIMParser().parse(_PathLexer().tokenize(text))
    except Exception as exc:  # the library raises several types; all mean the same to a client
        raise InvalidFilterError(f"The value filter in {where!r} can't be parsed.") from exc


def parse_path(text: Any, resource: Resource) -> Path:
    if not isinstance(text, str) or not text.strip():
        raise InvalidPathError(f"path must be a non-empty string, got {text!r}.")
    urn, rest = resource.split_urn(text.strip())
    if urn is not None and rest == "":
        return Path(urn, "", text=text)
    match = _PATH_RE.match(rest)
    if not match:
        raise InvalidPathError(f"{text!r} is not a valid attribute path.")
    urn = resource.resolve(urn, match["attr"])
    attr = resource.canonical(urn, match["attr"])
    value_filter = parse_filter(match["filter"], text) if match["filter"] is not None else None
    return Path(urn, attr, value_filter, match["sub"], text)


def parse_operations(body: Any, resource: Resource) -> list[Operation]:
    """Validate a PatchOp message (RFC 7644 §3.5.2) into operations."""
    if not isinstance(body, dict):
        raise InvalidSyntaxError("The PATCH body must be a JSON object.")
    schemas = body.get("schemas")
    if schemas is not None and (not isinstance(schemas, list) or PATCH_SCHEMA not in schemas):
        raise InvalidSyntaxError(f'schemas must be ["{PATCH_SCHEMA}"].')
    ops = body.get("Operations", body.get("operations"))
    if not isinstance(ops, list) or not ops:
        raise InvalidSyntaxError("Operations must be a non-empty list.")
    if len(ops) > MAX_OPERATIONS:
        raise InvalidValueError(f"At most {MAX_OPERATIONS} operations per PATCH.")
    parsed = []
    for index, raw in enumerate(ops):
        if not isinstance(raw, dict):
            raise InvalidSyntaxError(f"Operations[{index}] must be an object.")
        op = raw.get("op")
        if not isinstance(op, str) or op.lower() not in ("add", "remove", "replace"):
            raise InvalidSyntaxError(f"Operations[{index}].op must be add, remove or replace, got {op!r}.")
        path = parse_path(raw["path"], resource) if raw.get("path") is not None else None
        if op.lower() != "remove" and "value" not in raw:
            raise InvalidValueError(f"Operations[{index}] ({op}) needs a value.")
        if op.lower() == "remove" and path is None:
            raise NoTargetError(f"Operations[{index}]: remove needs a path (RFC 7644 §3.5.2.2).")
        if path is None and not isinstance(raw.get("value"), dict):
            raise InvalidValueError(f"Operations[{index}]: without a path, value must be an object of attributes.")
        parsed.append(Operation(op.lower(), path, raw.get("value"), "value" in raw))
    return parsed


# --- evaluating a value filter against one element of a multi-valued attribute ------------


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def matches(node: Any, element: Any) -> bool:
    """Evaluate a parsed value filter on one element, e.g. ``type eq "work"`` on an email."""
    if isinstance(node, fast.Filter):
        result = matches(node.expr, element)
        return not result if node.negated else result
    if isinstance(node, fast.LogExpr):
        left, right = matches(node.expr1, element), matches(node.expr2, element)
        return (left and right) if node.op.lower() == "and" else (left or right)
    if isinstance(node, fast.AttrExpr):
        if not isinstance(element, dict):
            return False
        name = node.attr_path.attr_name
        key = next((k for k in element if k.lower() == name.lower()), None)
        present = key is not None and element[key] not in (None, "", [])
        op = node.value.lower()
        if op == "pr":
            return present
        if name.lower() in BOOLEAN_SUBS and node.comp_value is not None:
            # A boolean compares as one (RFC 7644 §3.4.2.2): an absent primary is false, as in GET filters.
            if op not in ("eq", "ne"):
                raise InvalidFilterError(f"{name} is a boolean; it can only be compared with eq or ne.")
            equal = is_primary({"primary": element.get(key)}) == _typed(name, node.comp_value.value, name)
            return equal if op == "eq" else not equal
        actual = _as_text(element.get(key)).lower() if key else None
        expected = _as_text(node.comp_value.value if node.comp_value else None).lower()
        if op == "eq":
            return actual == expected or (actual is None and expected == "null")
        if op == "ne":
            return actual != expected
        if actual is None:
            return False
        return {
            "co": expected in actual,
            "sw": actual.startswith(expected),
            "ew": actual.endswith(expected),
            "gt": actual > expected,
            "ge": actual >= expected,
            "lt": actual < expected,
            "le": actual <= expected,
        }.get(op, False)
    raise InvalidFilterError("Unsupported value filter.")


# --- applying operations to a document ----------------------------------------------------


def apply_operations(doc: dict[str, Any], ops: list[Operation], resource: Resource) -> dict[str, Any]:
    """Return a patched copy of ``doc``; operations apply in order and all or none (§3.5.2)."""
    try:
        return _apply_all(copy.deepcopy(doc), ops, resource)
    except RecursionError:  # value filters are evaluated recursively; thousands of terms are not a path
        raise InvalidFilterError("A value filter in this PATCH is too long or too deeply nested.") from None


def _apply_all(doc: dict[str, Any], ops: list[Operation], resource: Resource) -> dict[str, Any]:
    for values in _multi_valued_lists(doc):
        keep_one_primary(values)  # a document stored before "at most one primary" was enforced
    for op in ops:
        if op.path is not None:
            _apply_one(doc, op.op, op.path, op.value, op.has_value)
            continue
        for key, value in op.value.items():
            path = _value_key_path(key, resource)
            if path is not None:
                _apply_one(doc, op.op, path, value, True)
    return doc


def _multi_valued_lists(doc: dict[str, Any]) -> list[list[Any]]:
    return [v for k, v in doc.items() if isinstance(k, str) and k in MULTI_VALUED and isinstance(v, list)]


def _lists_of(doc: dict[str, Any], path: Path) -> list[Any] | None:
    container = doc if path.urn is None else doc.get(_key(doc, path.urn))
    if path.attr not in MULTI_VALUED or not isinstance(container, dict):
        return None
    values = container.get(_key(container, path.attr))
    return values if isinstance(values, list) else None


def _apply_one(doc: dict[str, Any], op: str, path: Path, value: Any, has_value: bool) -> None:
    """One operation, then RFC 7644 §3.5.2's rule for the attribute it touched: "if a value
    with 'primary' set to 'true' is added [or replaced], the server SHALL set 'primary' to
    'false' for any other values in the array" (RFC 7643 §2.4: true at most once)."""
    before = _lists_of(doc, path)
    was_primary = [e for e in before or [] if is_primary(e)]
    _apply(doc, op, path, value, has_value)
    after = _lists_of(doc, path)
    if after is None or op == "remove":
        return
    promoted = [e for e in after if is_primary(e) and not any(e is w for w in was_primary)]
    if path.filter is None and (path.sub or "").lower() == "primary":  # "roles.primary": every value
        promoted = [e for e in after if is_primary(e)]
    if len(promoted) > 1:
        raise InvalidValueError(
            f"{path.text}: {len(promoted)} values are marked primary; at most one may be (RFC 7643 §2.4)."
        )
    if promoted:
        for element in after:
            if element is not promoted[0] and is_primary(element):
                element[_key(element, "primary")] = False


def is_primary(element: Any) -> bool:
    """``"primary": true``, or the string "True" Microsoft Entra ID sends for it (any case)."""
    if not isinstance(element, dict):
        return False
    flag = element.get(_key(element, "primary"))
    return flag is True or (isinstance(flag, str) and flag.strip().lower() == "true")


def keep_one_primary(values: list[Any]) -> None:
    """Demote every primary value but the first (the one scim/resources.py treats as primary)."""
    seen = False
    for element in values:
        if is_primary(element):
            if seen:
                element[_key(element, "primary")] = False
            seen = True


def _value_key_path(key: Any, resource: Resource) -> Path | None:
    """A key of a path-less value: "userName", "name.givenName" or "urn:...:User:department"."""
    if not isinstance(key, str):
        return None
    urn, rest = resource.split_urn(key)
    if urn is not None and rest == "":
        return Path(urn, "", text=key)
    attr, _, sub = rest.partition(".")
    canonical = resource.canonical(urn, attr, strict=False)
    if canonical is None or (urn is None and canonical in READ_ONLY):
        return None  # unknown or read-only attributes sent back are ignored (RFC 7643 §2.2)
    return Path(urn, canonical, None, sub or None, key)


def _key(container: dict[str, Any], name: str) -> str:
    return next((k for k in container if k.lower() == name.lower()), name)


def _merge(current: Any, value: Any) -> Any:
    if isinstance(current, dict) and isinstance(value, dict):
        merged = dict(current)
        for k, v in value.items():
            merged[_key(merged, k)] = v
        return merged
    return value


def _apply(doc: dict[str, Any], op: str, path: Path, value: Any, has_value: bool) -> None:
    if path.urn is None and path.attr in READ_ONLY:
        raise MutabilityError(f"{path.attr} is read-only and can't be changed.")
    if path.urn is not None and path.attr == "":
        if op == "remove":
            doc.pop(_key(doc, path.urn), None)
        elif not isinstance(value, dict):
            raise InvalidValueError(f"The value for {path.urn} must be an object.")
        else:
            key = _key(doc, path.urn)
            doc[key] = _merge(doc.get(key) or {}, value)
        return
    if path.urn is None:
        container = doc
    elif op == "remove" and _key(doc, path.urn) not in doc:
        return
    else:
        container = doc.setdefault(_key(doc, path.urn), {})
    key = _key(container, path.attr)
    multi = path.attr in MULTI_VALUED
    if path.filter is not None:
        _apply_filtered(container, key, op, path, value)
    elif path.sub is None:
        if op == "remove":
            if multi and has_value and isinstance(container.get(key), list) and value not in (None, []):
                drop = {
                    str(v.get("value")).lower()
                    for v in (value if isinstance(value, list) else [value])
                    if isinstance(v, dict)
                }
                container[key] = [
                    e for e in container[key] if not (isinstance(e, dict) and str(e.get("value")).lower() in drop)
                ]
            else:
                container.pop(key, None)
        elif multi:
            items = value if isinstance(value, list) else [value]
            container[key] = (list(container.get(key) or []) + items) if op == "add" else items
        else:
            container[key] = _merge(container.get(key), value)
    else:
        current = container.get(key)
        targets = current if isinstance(current, list) else None
        if targets is None:
            if op == "remove":
                if isinstance(current, dict):
                    current.pop(_key(current, path.sub), None)
                return
            current = current if isinstance(current, dict) else {}
            current[_key(current, path.sub)] = value
            container[key] = current
            return
        for element in targets:
            if isinstance(element, dict):
                if op == "remove":
                    element.pop(_key(element, path.sub), None)
                else:
                    element[_key(element, path.sub)] = value


def _simple_equalities(node: Any) -> dict[str, str] | None:
    """``type eq "work" and primary eq true`` -> {"type": "work", ...}; None for anything else."""
    if isinstance(node, fast.Filter) and not node.negated:
        return _simple_equalities(node.expr)
    if isinstance(node, fast.AttrExpr) and node.value.lower() == "eq" and node.comp_value is not None:
        return {node.attr_path.attr_name: node.comp_value.value}
    if isinstance(node, fast.LogExpr) and node.op.lower() == "and":
        left, right = _simple_equalities(node.expr1), _simple_equalities(node.expr2)
        return {**left, **right} if left is not None and right is not None else None
    return None


# Boolean sub-attributes of the multi-valued attributes (RFC 7643 §4.1.2, §8.7.1): a value filter's
# literal is typed by the attribute, not by how it was spelled.  The filter parser keeps no literal
# types, so ``roles[primary eq "True"]`` (Microsoft Entra ID's app-role mapping, "Customize user
# provisioning attribute-mappings": roles[primary eq "True"].value; the SCIM Validator sends it)
# and ``roles[primary eq true]`` both arrive as text and both mean the boolean true.
BOOLEAN_SUBS = {"primary"}


def _typed(name: str, value: Any, where: str) -> Any:
    if name.lower() not in BOOLEAN_SUBS:
        return value
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise InvalidFilterError(f"{where}: {name} is a boolean; compare it with true or false, not {value!r}.")
    return text == "true"


def _apply_filtered(container: dict[str, Any], key: str, op: str, path: Path, value: Any) -> None:
    elements = container.get(key)
    elements = elements if isinstance(elements, list) else []
    hits = [e for e in elements if matches(path.filter, e)]
    if op == "remove":
        if path.sub is None:
            container[key] = [e for e in elements if not any(e is h for h in hits)]
        else:
            for element in hits:
                element.pop(_key(element, path.sub), None)
        return
    if not hits:
        # Entra ID replaces emails[type eq "work"].value on users that have no work email
        # yet; an equality filter tells us what the new element is (RFC 7644 §3.5.2.1 add).
        template = _simple_equalities(path.filter)
        if template is None:
            raise NoTargetError(f"No value of {path.attr} matches {path.text!r}.")
        element = {k: _typed(k, v, path.text) for k, v in template.items()}
        elements.append(element)
        container[key] = elements
        hits = [element]
    for element in hits:
        if path.sub is not None:
            element[_key(element, path.sub)] = value
        elif isinstance(value, dict):
            element.update(_merge(element, value))
        else:
            raise InvalidValueError(f"The value for {path.text!r} must be an object.")


# --- group members: steps for the set-based membership service ----------------------------


def _filtered_member_ids(root: Any, where: str) -> list[int]:
    """``value eq "1" or value eq "2"`` -> [1, 2]; member filters name members by id only.

    Walked with a stack, not recursion: a long "or" chain nests as deep as it is long.
    """
    ids: list[int] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, fast.Filter) and not node.negated:
            stack.append(node.expr)
        elif isinstance(node, fast.LogExpr) and node.op.lower() == "or":
            stack += [node.expr2, node.expr1]
        elif (
            isinstance(node, fast.AttrExpr)
            and node.value.lower() == "eq"
            and node.attr_path.attr_name.lower() == "value"
            and node.comp_value is not None
        ):
            ids += member_ids([{"value": node.comp_value.value}], where)
        else:
            raise InvalidFilterError(f'{where}: member filters must be value eq "<id>" (joined by or).')
    return ids


def member_steps(ops: list[Operation]) -> tuple[list[Operation], list[tuple[str, list[int] | None]]]:
    """Take the member operations out of a group PATCH, in order, as membership steps."""
    rest: list[Operation] = []
    steps: list[tuple[str, list[int] | None]] = []
    for op in ops:
        path = op.path
        if path is None:
            value = dict(op.value)
            members_key = next((k for k in value if isinstance(k, str) and k.lower() == "members"), None)
            if members_key is not None:
                steps.append(("add" if op.op == "add" else "replace", member_ids(value.pop(members_key))))
            if value:
                rest.append(Operation(op.op, None, value, True))
        elif path.urn is None and path.attr == "members":
            if path.sub is not None:
                raise InvalidPathError(f"{path.text!r}: members can only be added, replaced or removed whole.")
            if path.filter is not None:
                if op.op != "remove":
                    raise InvalidPathError(f"{path.text!r}: a member filter can only be used to remove members.")
                steps.append(("remove", _filtered_member_ids(path.filter, path.text)))
            elif op.op == "remove":
                # Entra ID removes members with a value list rather than a filter.
                steps.append(("remove", member_ids(op.value) if op.value not in (None, [], {}) else None))
            else:
                steps.append((op.op, member_ids(op.value)))
        else:
            rest.append(op)
    return rest, steps
