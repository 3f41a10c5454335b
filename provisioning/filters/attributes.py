"""Which SCIM attributes a filter or sortBy may name, and the SQL each one maps to.

Names follow RFC 7643 (§4.1 User, §4.2 Group, §4.3 Enterprise User).  ``case_exact``
follows the schema's caseExact characteristic: only id, externalId, references and meta
attributes are compared exactly (RFC 7644 §3.4.2.2: "the case sensitivity for String type
attributes SHALL be determined by the attribute's caseExact characteristic").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, false, func, literal, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from provisioning.models import Group, Membership, User
from provisioning.sql import (
    Column,
    json_element,
    json_element_true,
    json_elements_exist,
    json_number,
    json_text,
)

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CUSTOM_USER = "urn:ietf:params:scim:schemas:extension:provisioning:2.0:User"

# Attribute types (RFC 7643 §2.3), plus "id": a SCIM string id stored as an integer key.
STRING, BOOLEAN, DATETIME, ID, ANY = "string", "boolean", "dateTime", "id", "any"


@dataclass(frozen=True)
class Attribute:
    """One filterable value: ``sql`` builds its column expression (for the current row)."""

    name: str
    type: str
    sql: Callable[[], Column]
    case_exact: bool = False
    nullable: bool = True
    # The column of the value's identity key (provisioning/identity_keys.py), for the attributes that
    # are unique by it: ``eq``/``ne`` compare keys there, so "DÜ@x" finds "dü@x" in NFD or full width.
    key: Callable[[], Column] | None = None
    # The value as a number (NULL when it is none), for attributes of no declared type that may hold
    # numbers: "gt"/"ge"/"lt"/"le" with a number compare numerically through it (10 > 9, not "10" < "9").
    number: Callable[[], Column] | None = None


@dataclass(frozen=True)
class Complex:
    """A complex attribute (RFC 7643 §2.3.8): sub-attributes, and ``value`` when none is named.

    ``exists`` is set for multi-valued attributes kept in another table: it wraps a
    condition on that table's row into an EXISTS correlated with the current row.
    """

    name: str
    subs: Mapping[str, Attribute]
    default: str | None = "value"
    exists: Callable[[int, ColumnElement[bool]], ColumnElement[bool]] | None = None
    # The attribute's other values, kept elsewhere with the same sub-attributes: a filter on the
    # attribute matches when it holds for any value (RFC 7644 §3.4.2.2), here or there.
    also: Complex | None = None


Entry = Attribute | Complex


def _attr(name: str, type_: str, column: Any, **kw: Any) -> Attribute:
    return Attribute(name, type_, lambda: column, **kw)


def _complex(name: str, subs: list[Attribute], **kw: Any) -> Complex:
    return Complex(name, {a.name.lower(): a for a in subs}, **kw)


def _full_name() -> ColumnElement[str]:
    # name.formatted as sent (kept in User.extra by scim/resources.py), else "Given Family".
    built = func.nullif(func.trim(func.coalesce(User.given_name, "") + " " + func.coalesce(User.family_name, "")), "")
    return func.coalesce(json_text(User.extra, "name", "formatted"), built)


def _extra(name: str) -> Attribute:
    """A core attribute scim/resources.py keeps verbatim in User.extra."""
    return Attribute(name, STRING, lambda: json_text(User.extra, name))


def _element(sub: str) -> Callable[[], Column]:
    return lambda: json_element(sub)


def _json_list(name: str, subs: tuple[str, ...] = ("value", "display", "type"), **kw: Any) -> Complex:
    """A multi-valued attribute kept verbatim as a JSON list in User.extra (scim/resources.py).

    Every one of them has ``primary`` (RFC 7643 §4.1.2, §2.4): a boolean here, whether it was
    stored as true or as the string "True" an IdP sent.
    """
    return _complex(
        name,
        [Attribute(sub, STRING, _element(sub)) for sub in subs]
        + [Attribute("primary", BOOLEAN, lambda: json_element_true("primary"), nullable=False)],
        exists=lambda _tenant_id, condition: json_elements_exist(User.extra, name, condition),
        **kw,
    )


def _user_groups(tenant_id: int, condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(Membership.user_id == User.id, Membership.tenant_id == tenant_id, condition).correlate(User)


def _group_display() -> ColumnElement[str]:
    return select(Group.name).where(Group.id == Membership.group_id).scalar_subquery()


def _group_members(tenant_id: int, condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return (
        exists().where(Membership.group_id == Group.id, Membership.tenant_id == tenant_id, condition).correlate(Group)
    )


def _member_display() -> ColumnElement[str]:
    return (
        select(func.coalesce(User.display_name, User.username)).where(User.id == Membership.user_id).scalar_subquery()
    )


def _meta(model: Any, resource: str) -> Complex:
    return _complex(
        "meta",
        [
            _attr("created", DATETIME, model.created_at, case_exact=True, nullable=False),
            _attr("lastModified", DATETIME, model.updated_at, case_exact=True, nullable=False),
            _attr("resourceType", STRING, literal(resource), case_exact=True, nullable=False),
        ],
        default=None,
    )


USER_CORE: dict[str, Entry] = {
    e.name.lower(): e
    for e in (
        _attr("id", ID, User.id, case_exact=True, nullable=False),
        _attr("externalId", STRING, User.external_id, case_exact=True),
        _attr("userName", STRING, User.username, nullable=False, key=lambda: User.username_key),
        _complex(
            "name",
            [
                _attr("givenName", STRING, User.given_name),
                _attr("familyName", STRING, User.family_name),
                Attribute("formatted", STRING, _full_name),
            ],
            default="formatted",
        ),
        _attr("displayName", STRING, User.display_name),
        _extra("nickName"),
        _extra("profileUrl"),
        _attr("title", STRING, User.title),
        _attr("userType", STRING, User.user_type),
        _attr("preferredLanguage", STRING, User.language),
        _attr("locale", STRING, User.locale),
        _attr("timezone", STRING, User.timezone),
        _attr("active", BOOLEAN, User.active, nullable=False),
        # The primary email lives in User.email (and its type in email_type), the whole list as an
        # IdP sent it in User.extra["emails"]; a filter on emails matches when any address matches
        # (RFC 7644 §3.4.2.2), and "emails co x" means the value sub-attribute.
        _complex(
            "emails",
            [
                _attr("value", STRING, User.email, key=lambda: User.email_key),
                _attr("type", STRING, User.email_type),
                Attribute("primary", BOOLEAN, lambda: User.email.is_not(None), nullable=False),
            ],
            also=_json_list("emails"),
        ),
        # The other multi-valued attributes of RFC 7643 §4.1.2, as stored: a filter matches when one
        # of their values does, bracketed or not (``roles[primary eq true].value eq "Admin"``).
        _json_list("phoneNumbers"),
        _json_list("ims"),
        _json_list("photos"),
        _json_list(
            "addresses",
            ("formatted", "streetAddress", "locality", "region", "postalCode", "country", "type"),
            default="formatted",
        ),
        _json_list("entitlements"),
        _json_list("roles"),
        _json_list("x509Certificates"),
        _complex(
            "groups",
            [
                _attr("value", ID, Membership.group_id, case_exact=True, nullable=False),
                Attribute("display", STRING, _group_display),
            ],
            exists=_user_groups,
        ),
        _meta(User, "User"),
    )
}

USER_ENTERPRISE: dict[str, Entry] = {
    e.name.lower(): e
    for e in (
        _attr("employeeNumber", STRING, User.employee_number),
        _attr("costCenter", STRING, User.cost_center),
        _attr("organization", STRING, User.organization),
        _attr("division", STRING, User.division),
        _attr("department", STRING, User.department),
        _complex("manager", [_attr("value", STRING, User.manager_id, case_exact=True)]),
    )
}

GROUP_CORE: dict[str, Entry] = {
    e.name.lower(): e
    for e in (
        _attr("id", ID, Group.id, case_exact=True, nullable=False),
        _attr("externalId", STRING, Group.external_id, case_exact=True),
        _attr("displayName", STRING, Group.name, nullable=False),
        _complex(
            "members",
            [
                _attr("value", ID, Membership.user_id, case_exact=True, nullable=False),
                Attribute("display", STRING, _member_display),
            ],
            exists=_group_members,
        ),
        _meta(Group, "Group"),
    )
}


def custom_attribute(name: str) -> Attribute:
    """A tenant-defined attribute, kept in User.custom_attributes (JSON): compared as text, except that
    "gt"/"ge"/"lt"/"le" with a number compare numerically and match only values that are numbers."""
    return Attribute(
        name,
        ANY,
        lambda: json_text(User.custom_attributes, name),
        number=lambda: json_number(User.custom_attributes, name),
    )


@dataclass(frozen=True)
class Schema:
    """The attributes of one resource type, by schema URN (lower-cased)."""

    resource: str
    core_urn: str
    by_urn: dict[str, dict[str, Entry]] = field(default_factory=dict)


def schemas_condition(resource: str, urn: str) -> ColumnElement[bool]:
    """``schemas eq "<urn>"`` (RFC 7644 §3.4.2.2 example): which resources carry that schema."""
    urn = urn.lower()
    if urn == (CORE_USER if resource == "User" else CORE_GROUP).lower():
        return true()
    if resource == "User" and urn == ENTERPRISE_USER.lower():
        return or_(
            *(
                c.is_not(None)
                for c in (
                    User.employee_number,
                    User.cost_center,
                    User.organization,
                    User.division,
                    User.department,
                    User.manager_id,
                )
            )
        )
    if resource == "User" and urn == CUSTOM_USER.lower():
        return User.custom_attributes != {}
    return false()


SCHEMAS = {
    "User": Schema("User", CORE_USER, {CORE_USER.lower(): USER_CORE, ENTERPRISE_USER.lower(): USER_ENTERPRISE}),
    "Group": Schema("Group", CORE_GROUP, {CORE_GROUP.lower(): GROUP_CORE}),
}
