"""The fields a tenant's rules can test, typed, and the values people already have in them.

Standard fields are the SCIM core and enterprise attributes we store (RFC 7643 §4.1, §4.3); custom
fields are the keys the tenant's users really carry in ``custom_attributes`` (or that the tenant
declares), typed from the values found: ISO dates are dates, JSON numbers numbers, true/false
booleans, anything else text.  Courses are the tenant's courses, for the course picker.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioning.filters.attributes import USER_CORE, USER_ENTERPRISE, Attribute, Complex
from provisioning.i18n import N_
from provisioning.models import Course, Tenant, User
from provisioning.rules.builder import BOOLEAN, COURSE, DATE, NUMBER, OPERATORS, TEXT
from provisioning.settings_catalog import declared_custom_attributes, declared_custom_labels
from provisioning.sql import Column, ci_like, json_text

SAMPLED_USERS = 2000  # custom keys and their types are read from this many users (the newest)
MAX_SUGGESTIONS = 50


@dataclass(frozen=True)
class Field:
    """One field of the builder: ``name`` as the rule writes it, ``label`` in English words."""

    name: str
    label: str
    type: str
    custom: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "custom": self.custom,
            "operators": list(OPERATORS[self.type]),
        }


# (rule name, label, type): the standard fields, in the order the builder lists them; their labels are
# translated where they are shown (ui/rule_builder.py), so this is the one list of their words.
STANDARD = (
    ("emails", N_("Email address"), TEXT),
    ("userName", N_("Username"), TEXT),
    ("name.givenName", N_("First name"), TEXT),
    ("name.familyName", N_("Last name"), TEXT),
    ("displayName", N_("Display name"), TEXT),
    ("title", N_("Job title"), TEXT),
    ("department", N_("Department"), TEXT),
    ("division", N_("Division"), TEXT),
    ("organization", N_("Organization"), TEXT),
    ("costCenter", N_("Cost center"), TEXT),
    ("employeeNumber", N_("Employee number"), TEXT),
    ("externalId", N_("Institutional ID"), TEXT),
    ("userType", N_("User type"), TEXT),  # "Student or Employee" in the automatic-groups article
    # The identity provider's roles (RFC 7643 §4.1.2), as it sends them: the article's "Role".
    ("roles", N_("Role"), TEXT),
    # The enterprise extension's manager (RFC 7643 §4.3): the article's "Supervisor", by the IdP's id of them.
    ("manager.value", N_("Supervisor"), TEXT),
    ("preferredLanguage", N_("Preferred language"), TEXT),
    ("active", N_("Active"), BOOLEAN),
)
STANDARD_LABELS = {name: label for name, label, _type in STANDARD}
COURSE_FIELD = Field("course", N_("Course"), COURSE)
STANDARD_LABELS["course"] = COURSE_FIELD.label
_STANDARD_NAMES = {name.lower() for name, _, _ in STANDARD}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def label_of(name: str) -> str:
    """``hireDate`` -> "Hire date", ``student_or_employee`` -> "Student or employee"."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").replace("-", " ").split()
    text = " ".join(w.lower() if i and not w.isupper() else w for i, w in enumerate(words))
    return text[:1].upper() + text[1:]


def _type_of(values: list[Any]) -> str:
    present = [v for v in values if v is not None and v != ""]
    if not present:
        return TEXT
    if all(isinstance(v, bool) for v in present):
        return BOOLEAN
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return NUMBER
    if all(isinstance(v, str) and _DATE.fullmatch(v) and _is_date(v) for v in present):
        return DATE
    return TEXT


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


# A type declared in the ``custom_attributes`` setting (SCIM's attribute types, RFC 7643 §2.3, and ours).
DECLARED_TYPES = {
    "number": NUMBER,
    "integer": NUMBER,
    "decimal": NUMBER,
    "string": TEXT,
    "text": TEXT,
    "boolean": BOOLEAN,
    "date": DATE,
    "datetime": DATE,
}


def _declared(s: Session, tenant_id: int) -> dict[str, str | None]:
    """{name: declared type or None} from the ``custom_attributes`` setting: a list of names or of
    ``{"name", "type"}`` objects, or an object of names to a type (``{"seniority": "number"}``)."""
    settings = s.scalar(select(Tenant.settings).where(Tenant.id == tenant_id)) or {}
    declared = settings.get("custom_attributes") or []
    found: dict[str, str | None] = {}
    for name in declared_custom_attributes(settings):
        item = declared.get(name) if isinstance(declared, dict) else None
        if isinstance(declared, list):
            item = next((d for d in declared if isinstance(d, dict) and d.get("name") == name), None)
        type_ = item.get("type") if isinstance(item, dict) else item
        found[name] = DECLARED_TYPES.get(type_.lower()) if isinstance(type_, str) else None
    return found


def custom_fields(s: Session, tenant_id: int) -> list[Field]:
    """The custom attributes the tenant's users carry (the newest SAMPLED_USERS), typed as declared in
    the ``custom_attributes`` setting, else as inferred from the values found."""
    declared = _declared(s, tenant_id)
    labels = declared_custom_labels(s.scalar(select(Tenant.settings).where(Tenant.id == tenant_id)))
    seen: dict[str, list[Any]] = {name: [] for name in declared}
    rows = s.scalars(
        select(User.custom_attributes).where(User.tenant_id == tenant_id).order_by(User.id.desc()).limit(SAMPLED_USERS)
    )
    for attrs in rows:
        for key, value in (attrs or {}).items():
            seen.setdefault(str(key), []).append(value)
    return sorted(
        (
            Field(name, labels.get(name) or label_of(name), declared.get(name) or _type_of(values), custom=True)
            for name, values in seen.items()
            if name.lower() not in _STANDARD_NAMES and name.lower() not in ("course", "enrollments", "groups")
        ),
        key=lambda f: f.label.lower(),
    )


def fields(s: Session, tenant_id: int) -> list[Field]:
    """Every field the builder offers this tenant: standard, custom, then courses (if it has any)."""
    found = [Field(name, label, type_) for name, label, type_ in STANDARD] + custom_fields(s, tenant_id)
    if s.scalar(select(Course.id).where(Course.tenant_id == tenant_id).limit(1)) is not None:
        found.append(COURSE_FIELD)
    return found


def field_types(found: list[Field]) -> dict[str, str]:
    """{field name: type}, what :func:`provisioning.rules.builder.from_text` reads rules with."""
    return {f.name: f.type for f in found}


def courses(s: Session, tenant_id: int) -> list[tuple[str, str]]:
    """(external id, title) of the tenant's courses, by title: the course picker's options."""
    rows = s.execute(
        select(Course.external_id, Course.title).where(Course.tenant_id == tenant_id).order_by(Course.title, Course.id)
    )
    return [(external_id, title or external_id) for external_id, title in rows]


def _column(name: str, custom: set[str]) -> Callable[[], Column] | None:
    if name in custom:
        return lambda: json_text(User.custom_attributes, name)
    head, _, sub = name.partition(".")
    entry = USER_CORE.get(head.lower()) or USER_ENTERPRISE.get(head.lower())
    if isinstance(entry, Complex):
        attr = entry.subs.get((sub or entry.default or "").lower())
        # Emails: the primary address (User.email); the other lists live in JSON and are not suggested.
        return attr.sql if attr is not None and entry.exists is None else None
    if isinstance(entry, Attribute) and entry.type == "string":
        return entry.sql
    return None


def suggestions(
    s: Session, tenant_id: int, name: str, prefix: str = "", limit: int = 20, *, known: list[Field] | None = None
) -> list[str]:
    """Distinct values of a text field among the tenant's users, starting with ``prefix`` (any case).

    ``known``: the tenant's fields when the caller has them already."""
    limit = max(1, min(int(limit), MAX_SUGGESTIONS))
    found = {f.name: f for f in (known if known is not None else fields(s, tenant_id))}
    field = found.get(name)
    if field is None or field.type not in (TEXT, NUMBER, DATE):
        return []
    make = _column(field.name, {f.name for f in found.values() if f.custom})
    if make is None:
        return []
    column = make()
    # Ordered by the label: a JSON path's key is a bound parameter, and PostgreSQL matches DISTINCT's
    # ORDER BY to the select list by text, which two copies of the parameter would not be.
    value = column.label("suggestion")
    stmt = select(value).where(User.tenant_id == tenant_id, column.is_not(None), column != "").distinct()
    if prefix:
        stmt = stmt.where(ci_like(column, "sw", prefix))
    return [str(v) for v in s.scalars(stmt.order_by(value).limit(limit))]
