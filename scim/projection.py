"""The ``attributes`` and ``excludedAttributes`` parameters (RFC 7644 §3.4.2.5, §3.9)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scim.errors import InvalidValueError
from scim.resources import CUSTOM_SCHEMA, ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA

SCHEMAS = (USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE_SCHEMA, CUSTOM_SCHEMA)
CORE = {USER_SCHEMA.lower(), GROUP_SCHEMA.lower()}
# "returned: always" (RFC 7643 §3.1, §7): never left out, never excluded.
ALWAYS = {"id", "schemas"}


def parse_list(raw: str | Iterable[str] | None) -> list[tuple[str | None, str, str | None]]:
    """Split "userName,name.givenName,urn:...:User:department" into (extension URN, attribute, sub-attribute)."""
    if raw is None:
        return []
    if not isinstance(raw, (str, list)):
        raise InvalidValueError("attributes and excludedAttributes must be strings.")
    items = raw.split(",") if isinstance(raw, str) else raw
    paths = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidValueError("attributes and excludedAttributes must be strings.")
        if item.strip():
            paths.append(parse_path(item.strip()))
    return paths


def parse_path(path: str) -> tuple[str | None, str, str | None]:
    container = None
    lowered = path.lower()
    for urn in sorted(SCHEMAS, key=len, reverse=True):
        if lowered == urn.lower():
            return (None, "", None) if urn.lower() in CORE else (urn, "", None)
        if lowered.startswith(urn.lower() + ":"):
            container = None if urn.lower() in CORE else urn
            path = path[len(urn) + 1 :]
            break
    attr, _, sub = path.partition(".")
    return container, attr, sub or None


def _find(doc: dict[str, Any], key: str) -> str | None:
    return next((k for k in doc if k.lower() == key.lower()), None)


def _pick(source: dict[str, Any], target: dict[str, Any], attr: str, sub: str | None) -> None:
    key = _find(source, attr)
    if key is None:
        return
    value = source[key]
    if sub is None:
        target[key] = value
    elif isinstance(value, dict):
        subkey = _find(value, sub)
        if subkey is not None:
            target.setdefault(key, {})[subkey] = value[subkey]
    elif isinstance(value, list):
        picked = [{k: item[k]} for item in value if isinstance(item, dict) for k in [_find(item, sub)] if k]
        if picked:
            target[key] = picked


def _drop(doc: dict[str, Any], attr: str, sub: str | None) -> None:
    key = _find(doc, attr)
    if key is None or key in ALWAYS:
        return
    if sub is None:
        del doc[key]
    elif isinstance(doc[key], dict):
        doc[key] = {k: v for k, v in doc[key].items() if k.lower() != sub.lower()}
    elif isinstance(doc[key], list):
        doc[key] = [
            {k: v for k, v in item.items() if k.lower() != sub.lower()} if isinstance(item, dict) else item
            for item in doc[key]
        ]


def project(doc: dict[str, Any], attributes: list, excluded: list) -> dict[str, Any]:
    """Apply ``attributes`` (only these, plus the "always" ones) or else ``excludedAttributes``."""
    if attributes:
        out = {k: v for k, v in doc.items() if k in ALWAYS}
        for container, attr, sub in attributes:
            if container is None:
                if attr:
                    _pick(doc, out, attr, sub)
            elif container in doc:
                if not attr:
                    out[container] = doc[container]
                else:
                    _pick(doc[container], out.setdefault(container, {}), attr, sub)
        for urn in [k for k in out if k.startswith("urn:") and not out[k]]:
            del out[urn]
        out["schemas"] = [s for s in doc.get("schemas", []) if s.lower() in CORE or s in out]
        return out
    if excluded:
        out = dict(doc)
        for container, attr, sub in excluded:
            if container is None:
                if attr:
                    _drop(out, attr, sub)
            elif container in out:
                if not attr:
                    del out[container]
                else:
                    out[container] = dict(out[container])
                    _drop(out[container], attr, sub)
        out["schemas"] = [s for s in doc.get("schemas", []) if s.lower() in CORE or s in out]
        return out
    return doc


def wants(attr: str, attributes: list, excluded: list) -> bool:
    """Whether the response needs core attribute ``attr`` (so the query can skip loading it)."""
    if attributes:
        return any(c is None and a.lower() == attr.lower() for c, a, _ in attributes)
    return not any(c is None and a.lower() == attr.lower() and s is None for c, a, s in excluded)
