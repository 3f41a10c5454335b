"""What the three membership formats share: group summary in the preview, and a chunk of memberships applied.

``members`` imports into one group given beside the file; ``user-groups`` and ``group-users``
name a group on each row.  The set-based statements are the same; where the group of a staged
row comes from (and which groups replace mode looks at) is what the subclasses say.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, exists, func, literal, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from provisioning.activity import Actor, record_many
from provisioning.db import insert_ignoring_conflicts
from provisioning.i18n import N_
from provisioning.imports.events import event_row, record_member_events, reevaluate_rules
from provisioning.imports.formats.base import ImportFormat
from provisioning.imports.marks import mark_rows, mark_staged, user_gone
from provisioning.imports.names import apply_names, count_name_changes
from provisioning.imports.users_apply import index_lookups
from provisioning.mail import trigger_events
from provisioning.models import Group, Membership, User, utcnow
from provisioning.models.imports import Import, ImportRow
from provisioning.rules.references import Change
from provisioning.runtime import Runtime

GROUPS_SHOWN = 1000
UNKNOWN_EMAIL = N_("No user of this tenant has this email: users must exist before they join groups.")


class MembershipFormat(ImportFormat):
    """A format whose rows are memberships (a user in a group)."""

    replaces_members = True
    # A row may name the same group twice: the chunk's pairs are made distinct.
    rows_may_repeat_pairs = False

    # --- staged checks -------------------------------------------------------------------------

    def mark_staged(self, s: Session, imp: Import, email_header: str | None, *, just_staged: bool) -> None:
        mark_staged(
            s,
            imp.id,
            ImportRow.user_id.is_(None) if just_staged else user_gone(imp.tenant_id),
            UNKNOWN_EMAIL,
            email_header,
        )

    # --- preview -------------------------------------------------------------------------------

    def summarize(self, s: Session, imp: Import, summary: dict[str, Any], *, groups: bool) -> None:
        if groups:
            summary["groups"], summary["groups_total"] = self.group_summary(s, imp)
        summary["names_changing"] = count_name_changes(s, imp)

    def summary_groups(self, imp: Import) -> tuple[ColumnElement[bool], Any]:
        """How a staged row finds its group in the preview: (join condition, the group's name as listed)."""
        raise NotImplementedError

    def summary_without_rows(self, imp: Import) -> list[Any]:
        """The preview's group rows when no staged row goes into any group."""
        return []

    def shown_name(self, s: Session, name: str | None, gid: int | None) -> str | None:
        return name

    def group_summary(self, s: Session, imp: Import) -> tuple[list[dict[str, Any]], int]:
        t = imp.tenant_id
        group_match, key = self.summary_groups(imp)
        stmt = (
            select(
                func.min(key),
                Group.id,
                func.count(distinct(ImportRow.user_id)),
                func.count(distinct(case((Membership.user_id.is_(None), ImportRow.user_id)))),
            )
            .select_from(ImportRow)
            .outerjoin(Group, and_(Group.tenant_id == t, group_match))
            .outerjoin(Membership, and_(Membership.group_id == Group.id, Membership.user_id == ImportRow.user_id))
            .where(ImportRow.import_id == imp.id, ImportRow.status == "ok", ImportRow.user_id.is_not(None))
            .group_by(func.lower(key), Group.id)
            .order_by(func.lower(key))
        )
        rows: list[Any] = list(s.execute(stmt).all())
        if not rows:
            rows = self.summary_without_rows(imp)
        ids = [r[1] for r in rows[:GROUPS_SHOWN] if r[1] is not None]
        before = (
            dict(
                s.execute(
                    select(Membership.group_id, func.count())
                    .where(Membership.group_id.in_(ids))
                    .group_by(Membership.group_id)
                ).all()
            )
            if ids
            else {}
        )
        groups = []
        for name, gid, listed, adding in rows[:GROUPS_SHOWN]:
            name = self.shown_name(s, name, gid)
            was = before.get(gid, 0)
            groups.append(
                {
                    "name": name,
                    "id": gid,
                    "new": gid is None,
                    "members_before": was,
                    "members_after": listed if imp.mode == "replace" else was + adding,
                    "listed": listed,
                }
            )
        return groups, len(rows)

    # --- apply ---------------------------------------------------------------------------------

    def group_of_entry(self, imp: Import) -> Any:
        """The id of the (manual) group a staged row goes into, as an SQL expression."""
        raise NotImplementedError

    def apply_chunk(
        self, rt: Runtime, s: Session, imp: Import, chunk: ColumnElement[bool], ok: int, actor: Actor
    ) -> dict[str, int]:
        """Insert the chunk's memberships; only rows already members (or no longer applicable) are marked."""
        t = imp.tenant_id
        group_id = self.group_of_entry(imp)
        # A correlated scalar subquery, evaluated row by row through the primary key: an EXISTS would be
        # planned as a semi-join, and with the group's statistics stale (it is filling up right now)
        # that can mean every member of the group compared with every row of the chunk.
        member = (
            select(literal(1))
            .where(Membership.group_id == group_id, Membership.user_id == ImportRow.user_id)
            .correlate(ImportRow)
            .scalar_subquery()
            .is_not(None)
        )
        table = Membership.__table__
        columns = ["group_id", "user_id", "tenant_id", "source", "added_at"]
        stamp = utcnow()
        values = (group_id, ImportRow.user_id, literal(t), literal("csv"), literal(stamp, table.c.added_at.type))
        rows = select(*values).where(chunk, ImportRow.status == "ok", group_id.is_not(None))
        if self.rows_may_repeat_pairs:
            rows = rows.distinct()  # a row may name the same group twice
        try:
            # The common case, a plain INSERT of the staged pairs (user ids were resolved in the tenant
            # while staging): one statement, no probe per row.  In a savepoint, because a member already
            # there, or a user deleted since, fails it.
            with s.begin_nested():
                added = s.execute(
                    table.insert().from_select(columns, rows).returning(table.c.group_id, table.c.user_id)
                ).all()
            skipped = 0
        except IntegrityError:
            skipped = mark_rows(s, and_(chunk, member), "skipped", N_("Already a member."))
            with index_lookups(s):  # users by primary key, whatever the statistics of a table filled a moment ago say
                added = s.execute(
                    insert_ignoring_conflicts(s, table)
                    .from_select(
                        columns,
                        rows.join_from(ImportRow, User, and_(User.id == ImportRow.user_id, User.tenant_id == t)),
                    )
                    .returning(table.c.group_id, table.c.user_id)
                ).all()
        errors = 0
        if len(added) < ok - skipped:  # rows left out: their user or group went away (or a pair repeats)
            errors = mark_rows(
                s,
                and_(chunk, user_gone(t)),
                "error",
                N_("Not applied: no user of this tenant has this email any more."),
            )
            errors += mark_rows(
                s, and_(chunk, ~member), "error", N_("Not applied: the group is automatic or no longer exists.")
            )
        # Every pair left is a membership now: inserted here, or by someone else meanwhile.
        after_membership_change(rt, s, imp, added, actor, "group.member_added")
        trigger_events.memberships_stamped(s, rt, t, [uid for _, uid in added], stamp, operation_id=imp.operation_id)
        renamed = apply_names(rt, s, imp, chunk, actor)  # the file's first and last names (imports/names.py)
        return {"applied": ok - skipped - errors, "skipped": skipped, "errors": errors, "users_updated": renamed}

    def unlisted(self, imp: Import, listed: ColumnElement[bool]) -> tuple[Any, ColumnElement[bool]]:
        """Replace mode: (the groups whose members are replaced, the condition that keeps a member)."""
        raise NotImplementedError

    def remove_unlisted(self, rt: Runtime, s: Session, imp: Import, actor: Actor) -> int:
        """Replace mode: remove, in one statement, the members of the imported groups the file doesn't list."""
        table = Membership.__table__
        listed = and_(ImportRow.import_id == imp.id, ImportRow.status.in_(("ok", "applied", "skipped")))
        targets, kept = self.unlisted(imp, listed)
        removed = s.execute(
            table.delete()
            .where(table.c.tenant_id == imp.tenant_id, table.c.group_id.in_(targets), ~kept)
            .returning(table.c.group_id, table.c.user_id)
        ).all()
        after_membership_change(rt, s, imp, removed, actor, "group.member_removed")
        return len(removed)


class NamedGroupsFormat(MembershipFormat):
    """The user- and group-based formats: each row names its group; groups not there yet are created."""

    def mark_staged(self, s: Session, imp: Import, email_header: str | None, *, just_staged: bool) -> None:
        super().mark_staged(s, imp, email_header, just_staged=just_staged)
        automatic = exists().where(
            Group.tenant_id == imp.tenant_id,
            Group.kind == "automatic",
            func.lower(Group.name) == func.lower(ImportRow.group_name),
        )
        mark_staged(
            s,
            imp.id,
            automatic,
            N_("This group is automatic: its members follow its rule and can't be imported."),
            value=ImportRow.group_name,
        )

    def summary_groups(self, imp: Import) -> tuple[ColumnElement[bool], Any]:
        return func.lower(Group.name) == func.lower(ImportRow.group_name), ImportRow.group_name

    def prepare(self, s: Session, imp: Import, actor: Actor) -> int:
        """Create the groups the file names that don't exist yet (one INSERT ... SELECT)."""
        t = imp.tenant_id
        missing = (
            select(func.min(ImportRow.group_name).label("name"))
            .where(
                ImportRow.import_id == imp.id,
                ImportRow.status == "ok",
                ~exists().where(Group.tenant_id == t, func.lower(Group.name) == func.lower(ImportRow.group_name)),
            )
            .group_by(func.lower(ImportRow.group_name))
            .subquery()
        )
        now = utcnow()
        columns = Group.__table__.c
        rows = select(
            literal(t),
            missing.c.name,
            literal("manual"),
            literal("csv"),
            literal({}, columns.settings.type),
            literal(now, columns.created_at.type),
            literal(now, columns.updated_at.type),
            literal(1),
        ).where(true())
        created = s.execute(
            insert_ignoring_conflicts(s, Group.__table__)
            .from_select(
                ["tenant_id", "name", "kind", "source", "settings", "created_at", "updated_at", "version"], rows
            )
            .returning(columns.id, columns.name)
        ).all()
        record_many(s, (event_row(imp, actor, "group.created", "group", gid, {"name": name}) for gid, name in created))
        return len(created)

    def group_of_entry(self, imp: Import) -> Any:
        return (
            select(Group.id)
            .where(
                Group.tenant_id == imp.tenant_id,
                Group.kind != "automatic",
                func.lower(Group.name) == func.lower(ImportRow.group_name),
            )
            .correlate(ImportRow)
            .scalar_subquery()
        )

    def unlisted(self, imp: Import, listed: ColumnElement[bool]) -> tuple[Any, ColumnElement[bool]]:
        table = Membership.__table__
        targets = (
            select(Group.id)
            .join(ImportRow, and_(func.lower(Group.name) == func.lower(ImportRow.group_name)))
            .where(listed, Group.tenant_id == imp.tenant_id)
            .distinct()
        )
        kept = exists().where(
            listed,
            ImportRow.user_id == table.c.user_id,
            Group.id == table.c.group_id,
            func.lower(ImportRow.group_name) == func.lower(Group.name),
        )
        return targets, kept


def after_membership_change(rt: Runtime, s: Session, imp: Import, pairs: Any, actor: Actor, action: str) -> None:
    if not pairs:
        return
    record_member_events(s, imp, actor, action, pairs)
    s.execute(
        update(Group)
        .where(Group.id.in_(sorted({gid for gid, _ in pairs})))
        .values(version=Group.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    changed = Change(groups=frozenset(gid for gid, _ in pairs))
    reevaluate_rules(rt, s, imp.tenant_id, sorted({uid for _, uid in pairs}), changed)
