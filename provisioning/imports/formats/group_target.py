"""An import into one group given beside the file: bulk add (users file) and member lists on automatic groups.

Two things the formats share here (issue 17, items 1 and 2):

* A **users file with a group** (``format=users`` + ``group_id``, the "Bulk add members"
  template): each chunk creates the new users as invited and updates the others
  (:mod:`.users_apply`), then adds every user of the chunk to the group and queues one
  invitation email per user it created (:func:`provisioning.services.invitations.send_invitations`,
  in the user's language), all in the chunk's transaction with its checkpoint: a chunk
  retried after a crash was rolled back whole, so nobody is added or invited twice.
* A **member file on an automatic group**: its people become *always-included* members (the
  rule's include list, ``settings["always_include"]``, see :mod:`provisioning.rules.definition`),
  which re-evaluation never removes.  Replace mode replaces that list at the end.

Memberships are added set-based (``INSERT ... SELECT`` from the staged rows joined to users by
the email's identity key, ``ON CONFLICT DO NOTHING``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, distinct, func, literal, select, true
from sqlalchemy.orm import Session

from provisioning.activity import Actor, record
from provisioning.db import insert_ignoring_conflicts
from provisioning.errors import Conflict, InvalidInput
from provisioning.i18n import N_, Message
from provisioning.imports.formats.columns import EMAIL, USER_FIELDS
from provisioning.imports.formats.memberships import after_membership_change
from provisioning.imports.marks import mark_rows, same_email, user_gone
from provisioning.imports.staging import analyze_stale
from provisioning.models import Group, Membership, Tenant, User, utcnow
from provisioning.models.imports import Import, ImportRow
from provisioning.rules.definition import MAX_EXCEPTIONS, reevaluate_users
from provisioning.runtime import Runtime
from provisioning.services import group_enrollments
from provisioning.services.invitations import send_invitations, tenant_link
from provisioning.store.groups import load_group

LIVE = ("ok", "applied", "skipped")  # rows still applied (or to apply): not in error, not excluded
AUTOMATIC_NOTE = N_(
    "Group %(name)r is automatic: the people of this file join it as always-included members (its rule's "
    "include list), which re-evaluating the rule never removes."
)
AUTOMATIC_REPLACE_NOTE = N_(
    "Group %(name)r is automatic: the people of this file join it as always-included members (its rule's "
    "include list), which re-evaluating the rule never removes. Replace mode replaces the include list with "
    "the people of this file."
)


# Users-file columns a member list doesn't have: with one of them (or a username among only user columns)
# a file sent to a group is read as a users file, whose new people are created and invited.
USERS_ONLY = {k for k, v in USER_FIELDS.items() if v not in ("given_name", "family_name", "username")}


def reads_as_users_file(keys: list[str]) -> bool:
    """Whether a header (normalised names) sent with a group is a users file (bulk add) rather than a member list."""
    if any(k in USERS_ONLY for k in keys):
        return True
    return "username" in keys and all(not k or k in EMAIL or k in USER_FIELDS for k in keys)


def load_target(s: Session, tenant_id: int, group_id: int) -> Group:
    """The group an import goes into (any kind: an automatic group takes the people as always-included)."""
    return load_group(s, tenant_id, group_id)


def is_automatic(s: Session, imp: Import) -> bool:
    return bool(imp.group_id) and s.scalar(select(Group.kind).where(Group.id == imp.group_id)) == "automatic"


def _listed_users(imp: Import, where: ColumnElement[bool]):
    """The tenant's users the staged rows matching ``where`` name (by the email's identity key)."""
    return (
        select(User.id)
        .join(ImportRow, and_(User.tenant_id == imp.tenant_id, same_email(User)))
        .where(where, ImportRow.email.is_not(None))
    )


# --- preview -------------------------------------------------------------------------------------


def summarize_target(s: Session, imp: Import, summary: dict[str, Any], *, new_users: int) -> None:
    """The preview's group entry for a users file going into a group (members before and after)."""
    group = s.get(Group, imp.group_id) if imp.group_id else None
    if group is None:
        return
    live = and_(ImportRow.import_id == imp.id, ImportRow.status.in_(LIVE))
    existing = s.scalar(select(func.count(distinct(ImportRow.user_id))).where(live)) or 0
    already = (
        s.scalar(
            select(func.count(distinct(ImportRow.user_id))).where(
                live,
                select(Membership.user_id)
                .where(Membership.group_id == group.id, Membership.user_id == ImportRow.user_id)
                .exists(),
            )
        )
        or 0
    )
    before = s.scalar(select(func.count()).where(Membership.group_id == group.id)) or 0
    entry: dict[str, Any] = {
        "id": group.id,
        "name": group.name,
        "new": False,
        "members_before": before,
        "members_after": before + existing - already + new_users,
        "listed": existing + new_users,
    }
    summary["groups"], summary["groups_total"] = [entry], 1
    note_automatic(s, imp, group, entry, summary, listed_existing=existing, listed_new=new_users)


def note_automatic(
    s: Session,
    imp: Import,
    group: Group,
    entry: dict[str, Any],
    summary: dict[str, Any],
    *,
    listed_existing: int,
    listed_new: int = 0,
) -> None:
    """For an automatic group: the include list before and after, and a warning saying what happens."""
    warnings = [w for w in summary.get("warnings", []) if "always-included" not in w]
    if group.kind == "automatic":
        before = set((group.settings or {}).get("always_include") or [])
        if imp.mode == "replace":
            after = listed_existing + listed_new
        else:
            listed = set(
                s.scalars(
                    select(ImportRow.user_id)
                    .where(ImportRow.import_id == imp.id, ImportRow.status.in_(LIVE), ImportRow.user_id.is_not(None))
                    .distinct()
                )
            )
            after = len(before | listed) + listed_new
        entry.update(automatic=True, included_before=len(before), included_after=after)
        note = AUTOMATIC_REPLACE_NOTE if imp.mode == "replace" else AUTOMATIC_NOTE
        warnings.append(Message(note, name=group.name))
        if after > MAX_EXCEPTIONS:
            warnings.append(
                Message(
                    N_(
                        "An automatic group's include list holds at most %(most)s people; this file would make it "
                        "%(count)s. The commit is refused: split the file or write the rule so it matches them."
                    ),
                    most=MAX_EXCEPTIONS,
                    count=after,
                )
            )
    summary["warnings"] = warnings


# --- commit ----------------------------------------------------------------------------------------


def check_target(s: Session, imp: Import, summary: dict[str, Any], *, new_users: int) -> None:
    """Refuse a commit that can't go into its group now (gone, include list too long, no join link)."""
    group = s.get(Group, imp.group_id) if imp.group_id else None
    if group is None or group.tenant_id != imp.tenant_id:
        raise Conflict(N_("The group this import goes into no longer exists."), field="group_id")
    entry = (summary.get("groups") or [{}])[0]
    if group.kind == "automatic" and int(entry.get("included_after") or 0) > MAX_EXCEPTIONS:
        raise InvalidInput(
            N_("An automatic group's include list holds at most %(most)s people; this import would make it %(count)s."),
            details={
                "file": [
                    Message(
                        N_("At most %(most)s always-included people per automatic group."),
                        most=MAX_EXCEPTIONS,
                    )
                ]
            },
            most=MAX_EXCEPTIONS,
            count=entry["included_after"],
        )
    if new_users:
        try:
            tenant_link(s.get_one(Tenant, imp.tenant_id), "join_url", "join_url")
        except InvalidInput:
            raise InvalidInput(
                N_(
                    "This import creates %(new_users)s users and invites each by email with the tenant's join link, "
                    "but the tenant has no join_url setting. Set it first; nothing was applied."
                ),
                details={"join_url": [N_("Set the tenant setting join_url (an http(s) URL) first.")]},
                new_users=new_users,
            ) from None


# --- apply -----------------------------------------------------------------------------------------


def add_chunk_to_group(
    rt: Runtime, s: Session, imp: Import, chunk: ColumnElement[bool], actor: Actor
) -> dict[str, int]:
    """After a users chunk was applied: put its users into the group, invite the ones it created.

    A group deleted while the job runs gets no members, but the people created are still invited.
    """
    group = s.get(Group, imp.group_id) if imp.group_id else None
    # The chunks before this one grew users and invitations by thousands of rows: with statistics of
    # the tables as they were (or none, on a fresh install) the invitation statements scan every pending
    # invitation of the tenant per chunk instead of probing by user id.  They are analyzed when they have
    # doubled (or never were): estimates within 2x keep those plans (probes, not scans), and a bulk add of
    # 100,000 people into an empty tenant analyzes each a few times instead of a dozen (users are wide:
    # sampling 30,000 of them is most of a second under load).
    analyze_stale(s, "users", "invitations", growth=1.0)
    applied = and_(chunk, ImportRow.status.in_(("ok", "skipped")))
    # The rows created by this chunk: still "ok" without a user at staging (a failed creation was marked).
    created = list(
        s.scalars(_listed_users(imp, and_(chunk, ImportRow.status == "ok", ImportRow.user_id.is_(None)))).all()
    )
    counts: dict[str, int] = {}
    if group is not None and group.kind == "automatic":
        counts = include_users(rt, s, imp, group, _listed_users(imp, applied), actor)
    elif group is not None:
        added = _insert_members(rt, s, imp, group, _listed_users(imp, applied), actor)
        counts = {"members_added": len(added)}
        # A bulk add into the group: its new members in the group's courses, when the admin turned that on.
        group_enrollments.enroll_added_members(
            s, rt, imp.tenant_id, group.id, added, actor, operation_id=imp.operation_id
        )
    invited = send_invitations(s, rt, imp.tenant_id, created, actor, operation_id=imp.operation_id)
    return {**counts, "invited": len(invited)}


def _insert_members(rt: Runtime, s: Session, imp: Import, group: Group, users: Any, actor: Actor) -> list[int]:
    table = Membership.__table__
    now = literal(utcnow(), table.c.added_at.type)
    users = users.subquery()
    # WHERE true: SQLite reads "INSERT ... SELECT ... ON CONFLICT" as a join's ON without it.
    rows = select(literal(group.id), users.c.id, literal(imp.tenant_id), literal("csv"), now).where(true())
    added = s.execute(
        insert_ignoring_conflicts(s, table)
        .from_select(["group_id", "user_id", "tenant_id", "source", "added_at"], rows)
        .returning(table.c.group_id, table.c.user_id)
    ).all()
    after_membership_change(rt, s, imp, added, actor, "group.member_added")
    return [user_id for _, user_id in added]


def _locked(s: Session, group: Group) -> Group:
    """The group row locked for this transaction: two imports never lose each other's include list changes."""
    return s.scalars(select(Group).where(Group.id == group.id).with_for_update()).one()


def include_users(rt: Runtime, s: Session, imp: Import, group: Group, users: Any, actor: Actor) -> dict[str, int]:
    """Add ``users`` (a SELECT of user ids) to the automatic group's include list and to its members."""
    group = _locked(s, group)
    ids = sorted(set(s.scalars(users).all()))
    settings = dict(group.settings or {})
    before = {int(i) for i in settings.get("always_include") or []}
    new = [i for i in ids if i not in before]
    if len(before) + len(new) > MAX_EXCEPTIONS:
        raise Conflict(
            N_(
                "Group %(name)r's include list would hold more than %(most)s people; nothing of this chunk was applied."
            ),
            field="always_include",
            name=group.name,
            most=MAX_EXCEPTIONS,
        )
    if new or set(ids) & set(settings.get("never_include") or []):
        settings["always_include"] = sorted(before | set(new))
        settings["never_include"] = [i for i in settings.get("never_include") or [] if i not in set(ids)]
        group.settings = settings
        record(
            s,
            imp.tenant_id,
            actor,
            "group.rule_exceptions_changed",
            "group",
            group.id,
            {"always_include": len(settings["always_include"]), "added": len(new), "import_id": imp.id},
        )
    added = _insert_members(rt, s, imp, group, select(User.id).where(User.id.in_(ids or [0])), actor)
    return {"included": len(new), "members_added": len(added)}


def include_chunk(
    rt: Runtime, s: Session, imp: Import, group: Group, chunk: ColumnElement[bool], actor: Actor
) -> dict[str, int]:
    """A member-list chunk on an automatic group: its users join the include list (and the group)."""
    gone = mark_rows(
        s,
        and_(chunk, user_gone(imp.tenant_id)),
        "error",
        N_("Not applied: no user of this tenant has this email any more."),
    )
    ok = and_(chunk, ImportRow.status == "ok")
    listed = s.scalar(select(func.count()).where(ok)) or 0
    counts = include_users(rt, s, imp, group, select(ImportRow.user_id).where(ok), actor)
    return {"applied": listed, "skipped": 0, "errors": gone, **counts}


def replace_includes(rt: Runtime, s: Session, imp: Import, group: Group, actor: Actor) -> int:
    """Replace mode on an automatic group: its include list becomes exactly the file's people.

    The people dropped from the list leave the group unless the rule matches them (re-evaluated
    now, or by a full evaluation when they are many); returns how many left now.
    """
    group = _locked(s, group)
    listed = set(
        s.scalars(_listed_users(imp, and_(ImportRow.import_id == imp.id, ImportRow.status.in_(LIVE))).distinct()).all()
    )
    settings = dict(group.settings or {})
    before = {int(i) for i in settings.get("always_include") or []}
    dropped = sorted(before - listed)
    settings["always_include"] = sorted(listed)
    group.settings = settings
    record(
        s,
        imp.tenant_id,
        actor,
        "group.rule_exceptions_changed",
        "group",
        group.id,
        {"always_include": len(listed), "removed": len(dropped), "import_id": imp.id},
    )
    changes = reevaluate_users(s, imp.tenant_id, dropped, rt=rt, actor=actor) if dropped else {}
    return changes.get(group.id, (0, 0))[1]
