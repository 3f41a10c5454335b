"""One person as admins and group managers see and edit them (the UI's person page).

What a principal may read is :func:`provisioning.permissions.can` (``view_person``); what they may
change is decided here, per field, and enforced on every save whatever the form showed:

* an admin edits every field of anyone (not their own role: that would end their own access), including
  the email address, unless an identity provider owns it (:func:`email_from_idp`);
* a manager with ``manage_users`` edits the names, department, custom fields and language of the
  people wholly within their reach (:func:`provisioning.permissions.beyond_reach`: not staff, in no
  group they do not manage), never a role nor an email (a login identity: docs/PERMISSIONS.md);
* anyone else edits nothing.

A change is written by :func:`provisioning.services.users.update_user`, which records ``user.updated``
in the activity log with the names of the changed attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from provisioning import course_progress, permissions
from provisioning.activity import Actor
from provisioning.errors import Conflict, Forbidden, InvalidInput
from provisioning.i18n import N_, Message
from provisioning.identity_keys import identity_key, refusal
from provisioning.models import Certificate, Course, Enrollment, Group, Notification, Task, Tenant, User
from provisioning.permissions import Principal
from provisioning.roles import manages_course, role_label
from provisioning.rules.catalog import label_of
from provisioning.runtime import Runtime
from provisioning.services import users
from provisioning.settings_catalog import LANGUAGES, declared_custom_attributes, declared_custom_labels
from provisioning.store.users import EMAIL_RE
from provisioning.tenant_roles import BUILTIN_ROLES, find_role, list_roles, role_of
from provisioning.text import text_problem

# The fields of the person form, with their length limits (the columns' sizes).
NAME_FIELDS = {"given_name": 200, "family_name": 200, "display_name": 400}
TEXT_FIELDS = {**NAME_FIELDS, "department": 200}
CUSTOM_PREFIX = "custom."  # a custom field's form name: custom.<attribute>
CUSTOM_MAX = 500
MANAGER_FIELDS = frozenset({*TEXT_FIELDS, "language", "custom"})
ADMIN_FIELDS = MANAGER_FIELDS | {"role", "email"}
EMAIL_MAX = 320  # users.email
# What the fields are called where an error names them.
FIELD_NAMES = {
    "given_name": N_("Given name"),
    "family_name": N_("Family name"),
    "display_name": N_("Display name"),
    "department": N_("Department"),
    "language": N_("Language"),
    "role": N_("Role"),
    "email": N_("Email"),
}


@dataclass(frozen=True)
class CourseLine:
    title: str
    role: str  # the course role in words ("Instructor", "Teaching assistant")
    status: str  # enrolled | in_progress | completed | dropped
    completed_at: datetime | None
    course_id: int = 0
    changeable: bool = False  # may the principal change this progress here (course_progress.change_progress)


@dataclass(frozen=True)
class Person:
    """Everything the person page shows, read in one unit of work."""

    user: User
    groups: list[tuple[int, str]]
    courses: list[CourseLine]
    tasks: list[Task]
    certificates: list[Certificate]
    notifications: list[Notification]
    # (attribute, label, value as text): the declared ones, then the user's others; the label is the one the
    # tenant declared (the custom_attributes setting), else the attribute's name in words ("startDate": "Start date").
    custom_fields: list[tuple[str, str, str]]
    editable: frozenset[str]  # the form's fields this principal may change ("custom" for every custom field)
    shared: bool = False
    role_name: str = ""  # the tenant role's name (a custom role's label; the built-ins' English words)
    languages: tuple[str, ...] = LANGUAGES
    roles: tuple[tuple[str, str], ...] = tuple((r.key, r.label) for r in BUILTIN_ROLES)  # the tenant's: (key, label)
    email_from_idp: bool = False  # the identity provider owns the email (:func:`email_from_idp`)
    # (id, name) of the courses the principal may enrol this person in (not enrolled there yet, or dropped).
    enrol_choices: tuple[tuple[int, str], ...] = ()
    progress_editable: bool = False  # may the principal change this person's progress in some course

    @property
    def custom_labels(self) -> dict[str, str]:
        """{form field ("custom.<attribute>"): label}: what the edit form's errors call each custom field."""
        return {CUSTOM_PREFIX + attr: label for attr, label, _ in self.custom_fields}


def editable_fields(rt: Runtime, principal: Principal, user: User) -> frozenset[str]:
    """The fields ``principal`` may change on ``user`` (see the module docstring)."""
    if user.tenant_id != principal.tenant_id:
        return frozenset()
    if principal.role == "admin":
        return (
            ADMIN_FIELDS
            - ({"role"} if user.id == principal.user_id else set())
            - ({"email"} if email_from_idp(user) else set())
        )
    if not permissions.can(rt, principal, "manage_users", user):
        return frozenset()
    if permissions.beyond_reach(rt, principal, [user.id]):
        return frozenset()
    return MANAGER_FIELDS


def email_from_idp(user: User) -> bool:
    """Whether an identity provider owns the person's email: a SCIM client sent their ``emails``.

    SCIM keeps that list as sent (``extra``) and reads it back to the IdP (scim/resources.py), and the
    IdP's next PUT or PATCH writes the address again; an address changed here would disagree with what
    the IdP reads and then be silently overwritten, so it is changed at the IdP instead.
    """
    return bool((user.extra or {}).get("emails"))


def _custom_fields(tenant: Tenant, user: User) -> list[tuple[str, str, str]]:
    values = user.custom_attributes or {}
    names = declared_custom_attributes(tenant.settings)
    names += sorted(k for k in values if k not in names)
    labels = declared_custom_labels(tenant.settings)
    return [(n, labels.get(n) or label_of(n), "" if values.get(n) is None else str(values.get(n))) for n in names]


def person(rt: Runtime, principal: Principal, user_id: int) -> Person:
    """The person page of ``user_id``: 404 for another tenant's or nobody, 403 outside the principal's scope."""
    user = users.get_user(rt, principal.tenant_id, user_id)
    permissions.require(rt, principal, "view_users" if principal.role != "learner" else "view_own", user)
    t = principal.tenant_id
    with rt.db.read() as s:
        tenant = s.get_one(Tenant, t)
        group_rows = s.execute(
            select(Group.id, Group.name)
            .where(Group.tenant_id == t, Group.id.in_(permissions.groups_of_user_scope(principal, user_id)))
            .order_by(func.lower(Group.name))
            .limit(200)
        ).all()
        course_rows = s.execute(
            select(
                func.coalesce(Course.title, Course.external_id),
                Enrollment.role,
                Enrollment.status,
                Enrollment.completed_at,
                Course.id,
            )
            .join(Course, Course.id == Enrollment.course_id)
            .where(Enrollment.tenant_id == t, Enrollment.user_id == user_id)
            .order_by(func.coalesce(Course.title, Course.external_id))
            .limit(200)
        ).all()
        tasks = list(
            s.scalars(
                select(Task).where(Task.tenant_id == t, Task.user_id == user_id).order_by(Task.id.desc()).limit(100)
            )
        )
        certificates = list(
            s.scalars(
                select(Certificate)
                .where(Certificate.tenant_id == t, Certificate.user_id == user_id)
                .order_by(Certificate.issued_on.desc(), Certificate.id.desc())
                .limit(100)
            )
        )
        notes = list(
            s.scalars(
                select(Notification)
                .where(Notification.tenant_id == t, Notification.user_id == user_id)
                .order_by(Notification.id.desc())
                .limit(100)
            )
        )
        custom = _custom_fields(tenant, user)
        role_name = role_of(s, t, user.role).label
        roles = tuple((r.key, r.label) for r in list_roles(s, t))
    progress_editable = course_progress.may_change(rt, principal, user)
    choices = course_progress.course_choices(rt, principal) if progress_editable else []
    reachable = {cid for cid, _ in choices}
    active = {cid for _, _, status, _, cid in course_rows if status != "dropped"}
    staff_ok = principal.role == "admin"
    return Person(
        user=user,
        groups=[(gid, name) for gid, name in group_rows],
        courses=[
            CourseLine(
                title,
                role_label(role or "Member", "learner"),
                status,
                done,
                cid,
                cid in reachable and status != "dropped" and (staff_ok or not manages_course(role)),
            )
            for title, role, status, done, cid in course_rows
        ],
        tasks=tasks,
        certificates=certificates,
        notifications=notes,
        custom_fields=custom,
        editable=editable_fields(rt, principal, user),
        shared=user_id in permissions.is_shared_with(rt, principal, [user_id]),
        role_name=role_name,
        roles=roles,
        email_from_idp=email_from_idp(user),
        enrol_choices=tuple((cid, name) for cid, name in choices if cid not in active),
        progress_editable=progress_editable,
    )


def _text(name: str, raw: str, errors: dict[str, list[str]], limit: int, label: str) -> str | None:
    value = " ".join(raw.split())
    problem = text_problem(value)
    if problem:
        errors[name] = [Message(N_("%(label)s %(problem)s."), label=label, problem=problem)]
    elif len(value) > limit:
        errors[name] = [
            Message(
                N_("%(label)s is too long: at most %(most)s characters (this one has %(length)s)."),
                label=label,
                most=limit,
                length=len(value),
            )
        ]
    return value or None


def edit_person(rt: Runtime, principal: Principal, actor: Actor, user_id: int, form: Mapping[str, str]) -> User:
    """Save the person form: only the fields sent change, each checked.

    A field the principal may not change is a Forbidden naming it; bad values are one InvalidInput
    whose details map each form field to what is wrong with it, in words.
    """
    user = users.get_user(rt, principal.tenant_id, user_id)
    permissions.require(rt, principal, "view_users" if principal.role != "learner" else "view_own", user)
    allowed = editable_fields(rt, principal, user)
    sent = {
        k: v
        for k, v in form.items()
        if k in TEXT_FIELDS or k in ("language", "role", "email") or k.startswith(CUSTOM_PREFIX)
    }
    if not allowed and sent:
        raise Forbidden(N_("You can't change this person's details."))
    refused = sorted(
        FIELD_NAMES.get(k, k[len(CUSTOM_PREFIX) :] if k.startswith(CUSTOM_PREFIX) else k)
        for k in sent
        if (k[: len(CUSTOM_PREFIX) - 1] if k.startswith(CUSTOM_PREFIX) else k) not in allowed
        and _differs(user, k, sent[k])
    )
    if refused:
        raise Forbidden(N_("You can't change this person's %(fields)s."), fields=", ".join(f.lower() for f in refused))
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name, limit in TEXT_FIELDS.items():
        if name in sent:
            values[name] = _text(name, sent[name], errors, limit, Message(FIELD_NAMES[name]))
    if "language" in sent:
        language = sent["language"].strip().lower()
        if language and language not in LANGUAGES and language != (user.language or "").lower():
            errors["language"] = [N_("Choose a language from the list.")]
        values["language"] = language or None
    if "role" in sent and "role" in allowed:
        with rt.db.read() as s:
            chosen = find_role(s, principal.tenant_id, sent["role"])
        if chosen is None:
            errors["role"] = [N_("Choose a role from the list.")]
        values["role"] = chosen.key if chosen is not None else sent["role"]
    if "email" in sent and "email" in allowed and _differs(user, "email", sent["email"]):
        values.update(_email(user, sent["email"], errors))
    custom = {k[len(CUSTOM_PREFIX) :]: v for k, v in sent.items() if k.startswith(CUSTOM_PREFIX)}
    if custom:
        with rt.db.read() as s:
            known = set(declared_custom_attributes(s.get_one(Tenant, principal.tenant_id).settings))
        merged = dict(user.custom_attributes or {})
        for attr, raw in custom.items():
            key = CUSTOM_PREFIX + attr
            if attr not in known and attr not in merged:
                errors[key] = [Message(N_("%(attr)s is not one of this organisation's fields."), attr=attr)]
                continue
            value = _text(key, raw, errors, CUSTOM_MAX, attr)
            if value is None:
                merged.pop(attr, None)
            elif str(merged.get(attr)) != value:
                merged[attr] = value
        values["custom_attributes"] = merged
    if errors:
        raise InvalidInput(N_("Some details were not saved: check the fields marked below."), details=errors)
    try:
        return users.update_user(rt, principal.tenant_id, user_id, values, actor, reevaluate=True)
    except Conflict as exc:
        if "email" not in values:
            raise
        # Only this tenant's people are compared (store/users.py), so the clash names nobody elsewhere.
        raise Conflict(
            N_("Nothing was saved: another person already has this email address."),
            field="email",
            details={
                "email": [
                    Message(
                        N_("%(email)s is already the email or username of another person in this organisation."),
                        email=values["email"],
                    )
                ]
            },
        ) from exc


def _email(user: User, raw: str, errors: dict[str, list[str]]) -> dict[str, Any]:
    """The new address checked as every channel checks it (the service checks again); a username that
    defaulted to the old address (an invited person's) follows it, so the mistyped address is gone."""
    address = raw.strip()
    label = Message(FIELD_NAMES["email"])
    if problem := text_problem(address):
        errors["email"] = [Message(N_("%(label)s %(problem)s."), label=label, problem=problem)]
    elif not address:
        errors["email"] = [N_("Enter an email address: invitations and messages go to it.")]
    elif len(address) > EMAIL_MAX:
        errors["email"] = [
            Message(
                N_("%(label)s is too long: at most %(most)s characters (this one has %(length)s)."),
                label=label,
                most=EMAIL_MAX,
                length=len(address),
            )
        ]
    elif problem := refusal(address):
        errors["email"] = [problem]
    elif not EMAIL_RE.match(address):
        errors["email"] = [Message(N_("%(email)s is not an email address (like name@example.org)."), email=address)]
    if "email" in errors:
        return {}
    follows = user.email is not None and identity_key(user.username) == identity_key(user.email)
    return {"email": address, **({"username": address} if follows else {})}


def _differs(user: User, key: str, raw: str) -> bool:
    """Whether a form value would change the stored one (an unchanged field of a locked section is fine)."""
    if key.startswith(CUSTOM_PREFIX):
        current = (user.custom_attributes or {}).get(key[len(CUSTOM_PREFIX) :])
        return (raw.strip() or None) != (None if current is None else str(current))
    current = getattr(user, key, None)
    if key in TEXT_FIELDS:
        return (" ".join(raw.split()) or None) != current
    if key == "language":
        return (raw.strip().lower() or None) != ((current or "").lower() or None)
    if key == "email":
        return (raw.strip() or None) != current
    return raw != current
