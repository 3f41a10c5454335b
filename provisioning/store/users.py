"""Users as stored rows: validate, add, load, change and find them inside the caller's transaction.

Primitives that never commit; the use cases in :mod:`provisioning.services.users` (and SCIM,
imports, LTI launches and rosters) build on them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from provisioning.activity import Actor, record
from provisioning.chunking import IN_LIST, chunked
from provisioning.errors import Conflict, InvalidInput, LimitExceeded, NotFound
from provisioning.i18n import N_, Message
from provisioning.identity_keys import identity_key, refusal
from provisioning.models import USER_STATUSES, Tenant, User, utcnow
from provisioning.sql import escape_like
from provisioning.store.ui_sessions import settle_user_sessions
from provisioning.tenant_roles import check_role

# Deliberately permissive: one "@", something on each side, no spaces.  Deliverability is
# the identity provider's business; we only refuse what cannot be an address.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")


# Attributes callers may set directly, mapped to their column.  SCIM and the admin API
# both translate their own names onto these.
EDITABLE = (
    "username",
    "email",
    "given_name",
    "family_name",
    "display_name",
    "external_id",
    "active",
    "status",
    "role",
    "role_source",
    "language",
    "locale",
    "timezone",
    "title",
    "user_type",
    "employee_number",
    "cost_center",
    "organization",
    "division",
    "department",
    "manager_id",
    "custom_attributes",
    "extra",
    "email_type",
)


# users.role_source: the identity provider's scim_role_map gave the role, or anyone else did (role_maps.py).
ROLE_SOURCES = ("admin", "scim")

# The stored comparison key of each unique attribute (:mod:`provisioning.identity_keys`); set with it.
KEYS = {"username": "username_key", "email": "email_key"}


def normalise_email(email: str | None) -> str | None:
    if email is None:
        return None
    email = email.strip().replace("\u00a0", "")
    return email or None


def _validate(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(values) - set(EDITABLE))
    for name in unknown:
        errors[name] = [N_("Unknown attribute.")]
    if "email" in values:
        values["email"] = normalise_email(values["email"])
        if values["email"] is not None and (problem := refusal(values["email"])):
            errors["email"] = [problem]
        elif values["email"] is not None and not EMAIL_RE.match(values["email"]):
            errors["email"] = [Message(N_("%(email)r is not an email address."), email=values["email"])]
        values["email_key"] = identity_key(values["email"]) if values["email"] is not None else None
    if "username" in values:
        username = (values["username"] or "").strip()
        if not username:
            errors["username"] = [N_("Must not be empty.")]
        elif problem := refusal(username):
            errors["username"] = [problem]
        values["username"] = username
        values["username_key"] = identity_key(username)
    if "role_source" in values and values["role_source"] not in ROLE_SOURCES:
        errors["role_source"] = [Message(N_("Must be one of %(choices)s."), choices=", ".join(ROLE_SOURCES))]
    if "status" in values and values["status"] not in USER_STATUSES:
        errors["status"] = [Message(N_("Must be one of %(choices)s."), choices=", ".join(USER_STATUSES))]
    for name in ("custom_attributes", "extra"):
        if name in values and not isinstance(values[name], dict):
            errors[name] = [N_("Must be an object.")]
    if errors:
        raise InvalidInput(N_("Some user attributes are invalid."), details=errors)
    # active and status describe one fact; keep them consistent whichever was given.
    if "status" in values and "active" not in values:
        values["active"] = values["status"] != "deactivated"
    elif "active" in values and "status" not in values:
        values["active"] = bool(values["active"])
    return values


def _check_unique(s: Session, tenant_id: int, values: dict[str, Any], exclude_id: int | None = None) -> None:
    """Refuse (Conflict) a username or email whose identity key another user of the tenant has."""
    checks = [("username", User.username_key), ("email", User.email_key)]
    if values.get("username_key") is not None and values.get("username_key") == values.get("email_key"):
        checks.reverse()  # a username that defaulted to the email: the email is what is taken
    for attr, column in checks:
        value = values.get(attr)
        if not value:
            continue
        stmt = select(User.id).where(User.tenant_id == tenant_id, column == values[KEYS[attr]])
        if exclude_id is not None:
            stmt = stmt.where(User.id != exclude_id)
        if s.scalar(stmt) is not None:
            raise Conflict(N_("A user with %(attr)s %(value)r already exists."), field=attr, attr=attr, value=value)


def count_seats(s: Session, tenant_id: int) -> int:
    """Seats in use: every user who is not deactivated."""
    return (
        s.scalar(
            select(func.count()).select_from(User).where(User.tenant_id == tenant_id, User.status != "deactivated")
        )
        or 0
    )


def check_seats(s: Session, tenant_id: int, adding: int = 1) -> None:
    """Refuse (LimitExceeded) ``adding`` more users who are not deactivated beyond the tenant's seat limit.

    Call it in the unit of work that then inserts or reactivates them: on a tenant with a limit it
    takes the tenant's seat lock (:func:`lock_seats`), held until that unit of work ends, so two
    requests can't both count the last free seat and both take it.
    """
    if s.scalar(select(Tenant.seat_limit).where(Tenant.id == tenant_id)) is None:
        return  # no limit, nothing to serialise (setting one while users are created is not a race we guard)
    limit = lock_seats(s, tenant_id)
    if limit is not None and count_seats(s, tenant_id) + adding > limit:
        raise LimitExceeded(N_("The tenant's seat limit of %(seats)s users is reached."), limit="seats", seats=limit)


def lock_seats(s: Session, tenant_id: int) -> int | None:
    """Lock the tenant's row until the transaction ends and return its seat limit.

    PostgreSQL: ``SELECT ... FOR NO KEY UPDATE``, which waits for another holder but not for the
    ``FOR KEY SHARE`` locks that inserting users (their foreign key) takes; under READ COMMITTED the
    count that follows is a new statement, so it sees what the previous holder committed.  SQLite
    takes no row locks and pysqlite only opens a transaction at the first write, so a no-op UPDATE
    takes the database's write lock (waiting its busy timeout), which also serialises the count and
    the insert after it.
    """
    if s.get_bind().dialect.name == "sqlite":
        s.execute(text("UPDATE tenants SET seat_limit = seat_limit WHERE id = :id"), {"id": tenant_id})
        return s.scalar(select(Tenant.seat_limit).where(Tenant.id == tenant_id))
    return s.scalar(select(Tenant.seat_limit).where(Tenant.id == tenant_id).with_for_update(key_share=True))


def add_user(s: Session, tenant_id: int, values: dict[str, Any], actor: Actor) -> User:
    """Create a user inside an open unit of work (used by services that create users in passing)."""
    values = _validate(dict(values))
    if not values.get("username"):
        if not values.get("email"):
            raise InvalidInput(
                N_("A user needs a username or an email."),
                details={"email": [N_("Required when no username is given.")]},
            )
        values["username"] = values["email"]
        values["username_key"] = values["email_key"]
    values.setdefault("status", "active" if values.get("active", True) else "deactivated")
    values["active"] = values["status"] != "deactivated"
    if "role" in values:
        values["role"] = check_role(s, tenant_id, values["role"])
    _check_unique(s, tenant_id, values)
    if values["status"] != "deactivated":
        check_seats(s, tenant_id)
    user = User(tenant_id=tenant_id, **values)
    user.custom_attributes = values.get("custom_attributes") or {}
    user.extra = values.get("extra") or {}
    s.add(user)
    _flush_unique(s)
    record(s, tenant_id, actor, "user.created", "user", user.id, {"username": user.username})
    return user


def _flush_unique(s: Session) -> None:
    """Flush; a concurrent request that won the race for the same name is a Conflict.

    No savepoint around it (two round trips per write): a Conflict ends the unit of work anyway.
    """
    try:
        s.flush()
    except IntegrityError as exc:
        raise Conflict(N_("A user with this username or email already exists."), field="username") from exc


def load_user(s: Session, tenant_id: int, user_id: int, *, for_update: bool = False) -> User:
    user = s.get(User, user_id, with_for_update=for_update) if isinstance(user_id, int) else None
    if user is None or user.tenant_id != tenant_id:
        raise NotFound(N_("No user with id %(user_id)s."), user_id=user_id)
    return user


def apply_changes(s: Session, user: User, values: dict[str, Any], actor: Actor) -> dict[str, Any]:
    """Change attributes of a loaded user inside an open unit of work; returns what changed."""
    values = _validate(dict(values))
    if "role" in values:
        values["role"] = check_role(s, user.tenant_id, values["role"])
        if values["role"] != user.role:
            values.setdefault("role_source", "admin")  # given by hand: the identity provider leaves it alone
    # Only a name whose identity key changes can collide with another user's; the key is written
    # only then (a user kept without a key by migration 0013, a duplicate, stays as it is).
    renamed: dict[str, Any] = {}
    for attr, key in KEYS.items():
        if attr in values:
            current = getattr(user, attr)
            if values[key] != (identity_key(current) if current is not None else None):
                renamed.update({attr: values[attr], key: values[key]})
            del values[key]
    if renamed:
        _check_unique(s, user.tenant_id, renamed, exclude_id=user.id)
        values.update(renamed)
    if values.get("status") and values["status"] != "deactivated" and user.status == "deactivated":
        check_seats(s, user.tenant_id)
    changed = {k: v for k, v in values.items() if getattr(user, k) != v}
    if not changed:
        return {}
    for key, value in changed.items():
        setattr(user, key, value)
    user.version += 1
    user.updated_at = utcnow()
    _flush_unique(s)
    record(s, user.tenant_id, actor, "user.updated", "user", user.id, {"changed": sorted(changed)})
    settle_user_sessions(s, user.tenant_id, [user.id])  # a new role or a deactivation ends their UI sessions
    return changed


def tenant_user_ids(s: Session, tenant_id: int, user_ids: Iterable[int], *, within: Any = None) -> set[int]:
    """Those of ``user_ids`` that are users of the tenant (and in ``within``, a SELECT of user ids,
    when given), looked up in chunked ``IN`` lists."""
    found: set[int] = set()
    for chunk in chunked(sorted(set(user_ids)), IN_LIST):
        stmt = select(User.id).where(User.tenant_id == tenant_id, User.id.in_(chunk))
        if within is not None:
            stmt = stmt.where(User.id.in_(within))
        found.update(s.scalars(stmt))
    return found


def name_matches(q: str) -> list[Any]:
    """Conditions true when ``q`` is part of a user's username or email, ignoring case, or of its identity key
    (so "DÜ" finds "dü" typed decomposed, and "ｄｕｐ" finds "dup"); or them together."""
    typed = f"%{escape_like(q.strip().lower())}%"
    keyed = f"%{escape_like(identity_key(q))}%"
    return [
        func.lower(User.username).like(typed, escape="\\"),
        func.lower(User.email).like(typed, escape="\\"),
        User.username_key.like(keyed, escape="\\"),
        User.email_key.like(keyed, escape="\\"),
    ]


def find_users_by_email(s: Session, tenant_id: int, emails: Iterable[str]) -> dict[str, int]:
    """Map the identity keys (:func:`identity_key`) of emails to user ids, for those of the tenant's users."""
    wanted = sorted({identity_key(e) for e in emails if e and e.strip()})
    found: dict[str, int] = {}
    for chunk in chunked(wanted, IN_LIST):
        rows = s.execute(select(User.email_key, User.id).where(User.tenant_id == tenant_id, User.email_key.in_(chunk)))
        found.update({email: uid for email, uid in rows if email is not None})
    return found
