"""SCIM resources <-> our models: User (core + enterprise + tenant extension) and Group.

A request document becomes plain values for the services (``user_values``/``group_values``);
a model becomes a document (``user_document``/``group_document``).  PUT and PATCH both end
as a full document turned into values, so "what was not sent is cleared" (RFC 7644 §3.5.1)
holds for both.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from provisioning.models import Group, User
from provisioning.text import text_problem
from scim.errors import InvalidValueError

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CUSTOM_SCHEMA = "urn:ietf:params:scim:schemas:extension:provisioning:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
# Entra ID adds this URN to the schemas of groups it creates; it carries nothing we store.
ENTRA_GROUP_SCHEMA = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
USER_EXTENSIONS = (ENTERPRISE_SCHEMA, CUSTOM_SCHEMA)
ACCEPTED_GROUP_SCHEMAS = {GROUP_SCHEMA.lower(), ENTRA_GROUP_SCHEMA.lower()}

# Core attributes stored in columns, SCIM name -> column.
USER_COLUMNS = {
    "userName": "username",
    "externalId": "external_id",
    "displayName": "display_name",
    "title": "title",
    "userType": "user_type",
    "preferredLanguage": "language",
    "locale": "locale",
    "timezone": "timezone",
}
NAME_COLUMNS = {"givenName": "given_name", "familyName": "family_name"}
ENTERPRISE_COLUMNS = {
    "employeeNumber": "employee_number",
    "costCenter": "cost_center",
    "organization": "organization",
    "division": "division",
    "department": "department",
}
# Core attributes (RFC 7643 §4.1) kept verbatim in User.extra and returned as sent.
USER_EXTRA = (
    "nickName",
    "profileUrl",
    "emails",
    "phoneNumbers",
    "ims",
    "photos",
    "addresses",
    "entitlements",
    "roles",
    "x509Certificates",
)
NAME_EXTRA = ("formatted", "middleName", "honorificPrefix", "honorificSuffix")
# Read-only or write-only attributes a client may send back; ignored, never stored (RFC 7643 §2.2).
IGNORED = ("id", "meta", "groups", "password", "schemas")

_KNOWN_USER = {k.lower(): k for k in (*USER_COLUMNS, *USER_EXTRA, *IGNORED, "name", "active")}
_KNOWN_NAME = {k.lower(): k for k in (*NAME_COLUMNS, *NAME_EXTRA)}
_KNOWN_ENTERPRISE = {k.lower(): k for k in (*ENTERPRISE_COLUMNS, "manager")}
MAX_DEPTH = 8


def as_bool(value: Any, where: str) -> bool:
    """SCIM booleans; Entra ID sends "True"/"False" as strings."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise InvalidValueError(f"{where} must be a boolean, got {value!r}.")


def _string(value: Any, where: str, column: str | None = None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidValueError(f"{where} must be a string, got {type(value).__name__}.")
    text = value
    problem = text_problem(text)
    if problem:
        raise InvalidValueError(f"{where} {problem}.")
    limit = getattr(User.__table__.c[column].type, "length", None) if column else None
    if limit and len(text) > limit:
        raise InvalidValueError(f"{where} is longer than {limit} characters.")
    return text


def check_json(value: Any, where: str, depth: int = 0) -> Any:
    """Refuse what a database can't store verbatim: NUL characters, NaN/Infinity, runaway nesting."""
    if depth > MAX_DEPTH:
        raise InvalidValueError(f"{where} is nested too deeply.")
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise InvalidValueError(f"{where} {problem}.")
    elif isinstance(value, float) and not math.isfinite(value):
        raise InvalidValueError(f"{where} must be a finite number.")
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**63:
        raise InvalidValueError(f"{where} is too large a number.")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_json(key, where, depth + 1)
            check_json(item, f"{where}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_json(item, f"{where}[{index}]", depth + 1)
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidValueError(f"{where} must be an object.")
    return value


def canonical_keys(doc: dict[str, Any], known: dict[str, str]) -> dict[str, Any]:
    """Attribute names are case-insensitive (RFC 7643 §2.1): spell the known ones our way."""
    return {known.get(key.lower(), key) if isinstance(key, str) else key: value for key, value in doc.items()}


def split_extensions(doc: dict[str, Any], urns: Iterable[str]) -> tuple[dict[str, Any], dict[str, dict]]:
    """Separate URN-keyed extension objects from core attributes (schema URNs are case-insensitive)."""
    by_lower = {u.lower(): u for u in urns}
    core: dict[str, Any] = {}
    extensions: dict[str, dict] = {}
    for key, value in doc.items():
        urn = by_lower.get(key.lower()) if isinstance(key, str) else None
        if urn:
            extensions[urn] = _object(value, urn)
        elif isinstance(key, str) and key.lower().startswith("urn:"):
            continue  # an extension we do not serve: ignored rather than stored half-understood
        else:
            core[key] = value
    return core, extensions


MULTI_VALUED_EXTRA = tuple(a for a in USER_EXTRA if a not in ("nickName", "profileUrl"))


def typed_primaries(core: dict[str, Any]) -> None:
    """Make ``primary`` a boolean in every multi-valued attribute, and true at most once in each.

    RFC 7643 §2.4: "The primary attribute value 'true' MUST appear no more than once"; a request
    whose own list marks two values primary is a client error (400 invalidValue), not something to
    guess at.  (A PATCH that adds a primary value demotes the others first, RFC 7644 §3.5.2:
    scim/patch.py.)  ``primary`` is a boolean (RFC 7643 §4.1.2); Microsoft Entra ID sends "True" and
    "False" as strings ("Known issues and resolutions with SCIM 2.0 protocol compliance of the
    Microsoft Entra user provisioning service"), so those strings are read as booleans, in any case.
    """
    for attr in MULTI_VALUED_EXTRA:
        values = core.get(attr)
        if not isinstance(values, list):
            continue
        primaries = 0
        for index, element in enumerate(values):
            key = (
                next((k for k in element if isinstance(k, str) and k.lower() == "primary"), None)
                if isinstance(element, dict)
                else None
            )
            if key is None:
                continue
            flag = element[key]
            if flag is None:
                continue
            element[key] = as_bool(flag, f"{attr}[{index}].primary")
            primaries += element[key]
        if primaries > 1:
            raise InvalidValueError(
                f"{attr}: {primaries} values are marked primary; at most one may be (RFC 7643 §2.4)."
            )


def one_primary(values: list[Any]) -> list[Any]:
    """``values`` as RFC 7643 says they are, for a list stored before this was enforced: primary a
    boolean (a stored "True" string read as true) and true on the first primary value only (§2.4).
    The stored list is not changed here (its next PATCH or PUT rewrites it)."""
    shown: list[Any] = []
    seen = False
    for element in values:
        flag = element.get("primary") if isinstance(element, dict) else None
        if isinstance(flag, str) and flag.strip().lower() in ("true", "false"):
            flag = flag.strip().lower() == "true"
        if isinstance(flag, bool):
            element = {**element, "primary": flag and not seen}
            seen = seen or flag
        shown.append(element)
    return shown


def primary_email(emails: Any) -> tuple[str | None, str | None]:
    """The primary email (primary true, else the first) and its type."""
    if emails is None:
        return None, None
    if not isinstance(emails, list) or not all(isinstance(e, dict) for e in emails):
        raise InvalidValueError("emails must be a list of objects.")
    chosen = next(
        (e for e in emails if e.get("primary") is True or str(e.get("primary")).lower() == "true"),
        emails[0] if emails else None,
    )
    if not chosen:
        return None, None
    return _string(chosen.get("value"), "emails.value", "email"), _string(
        chosen.get("type"), "emails.type", "email_type"
    )


def user_values(doc: Any) -> dict[str, Any]:
    """Every stored attribute of a user from a full SCIM document (absent attributes become empty)."""
    if not isinstance(doc, dict):
        raise InvalidValueError("The request body must be a JSON object.")
    check_json(doc, "body")
    core, extensions = split_extensions(doc, USER_EXTENSIONS)
    core = canonical_keys(core, _KNOWN_USER)
    values: dict[str, Any] = {}
    for attr, column in USER_COLUMNS.items():
        values[column] = _string(core.get(attr), attr, column)
    if not values["username"]:
        raise InvalidValueError("userName is required.")
    name = canonical_keys(_object(core.get("name"), "name"), _KNOWN_NAME)
    for attr, column in NAME_COLUMNS.items():
        values[column] = _string(name.get(attr), f"name.{attr}", column)
    if core.get("active") is not None:
        values["active"] = as_bool(core["active"], "active")
    typed_primaries(core)
    values["email"], values["email_type"] = primary_email(core.get("emails"))
    extra = {attr: core[attr] for attr in USER_EXTRA if core.get(attr) not in (None, [], {})}
    name_extra = {attr: name[attr] for attr in NAME_EXTRA if name.get(attr) is not None}
    if name_extra:
        extra["name"] = name_extra
    values["extra"] = extra
    enterprise = canonical_keys(extensions.get(ENTERPRISE_SCHEMA, {}), _KNOWN_ENTERPRISE)
    for attr, column in ENTERPRISE_COLUMNS.items():
        values[column] = _string(enterprise.get(attr), f"{ENTERPRISE_SCHEMA}:{attr}", column)
    manager = enterprise.get("manager")
    if isinstance(manager, list) and len(manager) == 1:
        manager = manager[0]  # Entra ID's reference sample adds the manager as [{"$ref": ..., "value": ...}]
    if isinstance(manager, dict):
        manager = manager.get("value")
    values["manager_id"] = _string(manager, f"{ENTERPRISE_SCHEMA}:manager.value", "manager_id") or None
    values["custom_attributes"] = {k: v for k, v in extensions.get(CUSTOM_SCHEMA, {}).items() if v is not None}
    return values


def user_document(user: User, base_url: str, groups: list[dict] | None = None) -> dict[str, Any]:
    """A user as a SCIM document (attributes without a value are left out, RFC 7643 §2.5)."""
    extra = dict(user.extra or {})
    doc: dict[str, Any] = {"schemas": [USER_SCHEMA], "id": str(user.id)}
    for attr, column in USER_COLUMNS.items():
        if getattr(user, column) is not None:
            doc[attr] = getattr(user, column)
    name = {attr: getattr(user, column) for attr, column in NAME_COLUMNS.items() if getattr(user, column)}
    name.update(extra.pop("name", None) or {})
    if name:
        doc["name"] = name
    doc["active"] = bool(user.active)
    emails = extra.pop("emails", None)
    if not emails and user.email:
        emails = [{"value": user.email, "primary": True, **({"type": user.email_type} if user.email_type else {})}]
    if emails:
        doc["emails"] = emails
    for attr in USER_EXTRA:
        if attr in extra:
            doc[attr] = extra[attr]
    for attr in MULTI_VALUED_EXTRA:
        if isinstance(doc.get(attr), list):
            doc[attr] = one_primary(doc[attr])
    if groups is not None:
        doc["groups"] = groups
    enterprise = {attr: getattr(user, column) for attr, column in ENTERPRISE_COLUMNS.items() if getattr(user, column)}
    if user.manager_id:
        enterprise["manager"] = {"value": user.manager_id}
    if enterprise:
        doc["schemas"].append(ENTERPRISE_SCHEMA)
        doc[ENTERPRISE_SCHEMA] = enterprise
    if user.custom_attributes:
        doc["schemas"].append(CUSTOM_SCHEMA)
        doc[CUSTOM_SCHEMA] = dict(user.custom_attributes)
    doc["meta"] = meta("User", user, f"{base_url}/Users/{user.id}")
    return doc


def meta(resource_type: str, obj: User | Group, location: str) -> dict[str, Any]:
    return {
        "resourceType": resource_type,
        "created": obj.created_at.isoformat().replace("+00:00", "Z"),
        "lastModified": obj.updated_at.isoformat().replace("+00:00", "Z"),
        "location": location,
        "version": etag(obj.version),
    }


def etag(version: int) -> str:
    return f'W/"{version}"'


def group_values(doc: Any) -> dict[str, Any]:
    """The stored attributes of a group from a full document (members are handled apart)."""
    if not isinstance(doc, dict):
        raise InvalidValueError("The request body must be a JSON object.")
    check_json(doc, "body")
    core = canonical_keys(
        {k: v for k, v in doc.items() if not (isinstance(k, str) and k.lower().startswith(("urn:", "http")))},
        {"displayname": "displayName", "externalid": "externalId", "members": "members"},
    )
    name = _string(core.get("displayName"), "displayName")
    if not name or not name.strip():
        raise InvalidValueError("displayName is required.")
    if len(name) > 400:
        raise InvalidValueError("displayName is longer than 400 characters.")
    external_id = _string(core.get("externalId"), "externalId")
    if external_id and len(external_id) > 320:
        raise InvalidValueError("externalId is longer than 320 characters.")
    return {"name": name, "external_id": external_id}


def _count(value: Any) -> int:
    return len(value) if isinstance(value, list) else 0 if value is None else 1


def _members_value(value: Any) -> Any:
    if not isinstance(value, dict):
        return None
    return next((v for k, v in value.items() if isinstance(k, str) and k.lower() == "members"), None)


def members_named(body: Any, *, patch: bool) -> int:
    """How many members a group's POST/PUT body, or a group PATCH message (every operation, add,
    replace or remove), names: counted before anything is parsed, for the per-request limit."""
    if not patch:
        return _count(_members_value(body))
    ops = body.get("Operations", body.get("operations")) if isinstance(body, dict) else None
    total = 0
    for op in ops if isinstance(ops, list) else []:
        if not isinstance(op, dict):
            continue
        path = op.get("path")
        if isinstance(path, str) and path.strip().lower().startswith("members"):
            total += max(_count(op.get("value")), 1)
        elif path is None:
            total += _count(_members_value(op.get("value")))
    return total


def member_ids(members: Any, where: str = "members") -> list[int]:
    """User ids from ``[{"value": "12", "$ref": ..., "type": "User"}]`` (``$ref`` may be null)."""
    if members is None:
        return []
    if isinstance(members, dict):
        members = [members]
    if not isinstance(members, list):
        raise InvalidValueError(f"{where} must be a list of objects with a value.")
    ids: list[int] = []
    for index, member in enumerate(members):
        if not isinstance(member, dict) or member.get("value") in (None, ""):
            raise InvalidValueError(f"{where}[{index}] must be an object with a value (a user id).")
        member = {str(k).lower(): v for k, v in member.items()}
        if member.get("type") not in (None, "User", "user"):
            raise InvalidValueError(f"{where}[{index}]: only users can be members (nested groups are not supported).")
        ids.append(parse_id(member.get("value"), f"{where}[{index}].value", InvalidValueError))
    return ids


def parse_id(value: Any, where: str, error=InvalidValueError) -> int:
    """Our ids are positive integers that fit a bigint; anything else names no resource."""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not text.isdigit() or not 0 < int(text) < 2**63:
        raise error(f"{where}: {value!r} is not the id of a user of this tenant.")
    return int(text)


def group_document(group: Group, base_url: str, members: list[dict] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"schemas": [GROUP_SCHEMA], "id": str(group.id), "displayName": group.name}
    if group.external_id:
        doc["externalId"] = group.external_id
    if members is not None:
        doc["members"] = members
    doc["meta"] = meta("Group", group, f"{base_url}/Groups/{group.id}")
    return doc


def member_entry(user_id: int, base_url: str) -> dict[str, Any]:
    # RFC 7643 §8.7.1 gives members value, $ref and type; "display" sent by a client is not kept.
    return {"value": str(user_id), "$ref": f"{base_url}/Users/{user_id}", "type": "User"}


def group_entry(group_id: int, name: str, base_url: str) -> dict[str, Any]:
    return {"value": str(group_id), "$ref": f"{base_url}/Groups/{group_id}", "display": name, "type": "direct"}
