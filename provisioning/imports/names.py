"""First and last names in a membership file (members, user-based groups): applied to the people, never dropped silently.

The reference article of the user-based format asks for "FirstName, LastName (optional)" beside
the email of a user who must already exist, and the group's download then shows "what you
uploaded, e.g. First name, Last name, Email": an admin who types a name expects to see it.  So
an admin's file updates the names of the users it lists (a blank cell keeps the current name),
the preview counts the people whose name will change (``names_changing``), and the job
counts them as ``users_updated``.  A group manager does not edit people: their file's names
are not applied, and the preview says so.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from provisioning.activity import Actor
from provisioning.i18n import N_
from provisioning.imports.events import record_events, reevaluate_rules
from provisioning.imports.users_apply import update_users_from_rows
from provisioning.models import User, utcnow
from provisioning.models.imports import Import, ImportRow
from provisioning.runtime import Runtime

UPDATE, IGNORED = "update", "ignored"
IGNORED_NOTICE = N_(
    "The file's first and last names are not applied: only administrators change people's names. "
    "The memberships are imported."
)


def names_policy(imp: Import) -> str:
    """Whether the import's names are applied ("update", an admin's upload) or not ("ignored").

    An import previewed before names were applied has no say in its summary: its names stay as they were
    (it may be a manager's upload, and its preview did not announce any change)."""
    return (imp.summary or {}).get("names", IGNORED)


def _differs(users: Any, rows: Any) -> ColumnElement[bool]:
    return or_(
        *(and_(rows.c[f].is_not(None), users.c[f].is_distinct_from(rows.c[f])) for f in ("given_name", "family_name"))
    )


def count_name_changes(s: Session, imp: Import) -> int:
    """How many people's first or last name the import's valid rows would change (0 when not applied)."""
    if names_policy(imp) != UPDATE:
        return 0
    users, rows = User.__table__, ImportRow.__table__
    return (
        s.scalar(
            select(func.count(func.distinct(rows.c.user_id)))
            .select_from(rows.join(users, users.c.id == rows.c.user_id))
            .where(rows.c.import_id == imp.id, rows.c.status == "ok", _differs(users, rows))
        )
        or 0
    )


def apply_names(rt: Runtime, s: Session, imp: Import, chunk: ColumnElement[bool], actor: Actor) -> int:
    """Update the names of the chunk's users (rows applied or already members); returns how many changed."""
    if names_policy(imp) != UPDATE:
        return 0
    users, rows = User.__table__, ImportRow.__table__
    changed = update_users_from_rows(
        s,
        imp,
        and_(chunk, rows.c.status.in_(("ok", "skipped"))),  # skipped: already a member, the name still counts
        _differs(users, rows),
        utcnow(),
        given_name=func.coalesce(rows.c.given_name, users.c.given_name),
        family_name=func.coalesce(rows.c.family_name, users.c.family_name),
    )
    record_events(s, imp, actor, "user.updated", "user", changed)
    reevaluate_rules(rt, s, imp.tenant_id, changed)
    return len(changed)
