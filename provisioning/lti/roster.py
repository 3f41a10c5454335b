"""Roster sync over NRPS: a course's platform membership into its roster group, as an Operation.

Each chunk fetches one page of the membership container and applies it in one transaction
with set-based SQL (users matched by link or email, the rest created; memberships inserted
or deleted; enrollments updated per role).  A full sync stages the users it saw and at the
end removes everyone else in one DELETE; when the platform offered a "differences" link
(NRPS 2.0 §2.4.3) the next sync asks only for changes, where Inactive and Deleted members
say who left.

Staff are kept apart from the learner roster: the roster group holds the members whose course role is not a
managing one (``provisioning.roles.COURSE_MANAGER_ROLES``: Administrator, Instructor, TeachingAssistant);
staff get their enrollment (which is what lets them manage the course's groups) and are not members of the
group. Many platforms leave instructors out of the membership list (or list only some of them), so a sync
never drops a staff enrollment because the list does not name it; and it never changes the course role of
the person whose launch (or request) started it — their launch is fresher than the list.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, literal, or_, select, update
from sqlalchemy.orm import Session

from provisioning.activity import Actor, record
from provisioning.chunking import IN_LIST, chunked
from provisioning.db import insert_ignoring_conflicts
from provisioning.errors import Forbidden, NotFound
from provisioning.i18n import N_
from provisioning.identity_keys import identity_key, refusal
from provisioning.lti.keys import current_key
from provisioning.lti.people import person_values
from provisioning.lti.registrations import REVOKED, is_revoked
from provisioning.mail import trigger_events
from provisioning.models import (
    Course,
    CourseGroup,
    Enrollment,
    Group,
    LtiContext,
    LtiRegistration,
    LtiRosterSeen,
    LtiUserLink,
    Membership,
    Operation,
    User,
    utcnow,
)
from provisioning.operations import Checkpoint, save_progress, start_operation
from provisioning.roles import COURSE_MANAGER_ROLES, course_role, manages_course
from provisioning.rules.definition import reevaluate_users
from provisioning.runtime import MembersPage, Platform, RosterSource, Runtime
from provisioning.store.groups import add_group
from provisioning.store.members import delete_members, insert_members, touch_group
from provisioning.store.users import check_seats, find_users_by_email

log = logging.getLogger(__name__)

OPERATION_TYPE = "roster_sync"


def start_roster_sync_if_stale(
    s: Session, rt: Runtime, ctx: LtiContext, max_age: timedelta, actor: Actor, *, launched_by: int | None = None
) -> int | None:
    """Inside a launch: start a sync when the roster is older than ``max_age`` and none is pending.

    ``launched_by``: the launching user, whose course role the sync leaves alone."""
    if not ctx.memberships_url:
        return None
    if ctx.last_synced_at is not None and utcnow() - ctx.last_synced_at < max_age:
        return None
    return _start(s, rt, ctx, actor, launched_by).id


def request_roster_sync(
    rt: Runtime, tenant_id: int, course_external_id: str, actor: Actor, *, requested_by: int | None = None
) -> Operation:
    """Sync a course's roster now (or return the sync already queued or running).

    ``requested_by``: the user (a course manager) asking, whose course role the sync leaves alone."""
    with rt.db.transaction() as s:
        ctx = s.scalar(
            select(LtiContext)
            .join(Course, Course.id == LtiContext.course_id)
            .where(
                Course.tenant_id == tenant_id,
                Course.external_id == course_external_id,
                LtiContext.memberships_url.is_not(None),
            )
            .order_by(LtiContext.id.desc())
            .limit(1)
        )
        if ctx is None:
            raise NotFound(
                N_(
                    "No course %(external_id)r launched from an LMS that offers its roster (Names and Role "
                    "Provisioning Services)."
                ),
                external_id=course_external_id,
            )
        if is_revoked(s, ctx.registration_id):
            raise Forbidden(REVOKED)
        return _start(s, rt, ctx, actor, requested_by)


def _start(s: Session, rt: Runtime, ctx: LtiContext, actor: Actor, keep_user: int | None) -> Operation:
    pending = s.scalar(
        select(Operation)
        .where(
            Operation.tenant_id == ctx.tenant_id,
            Operation.type == OPERATION_TYPE,
            Operation.status.in_(("queued", "running")),
            Operation.params["lti_context_id"].as_integer() == ctx.id,
        )
        .limit(1)
    )
    if pending is not None:
        return pending
    params: dict[str, Any] = {"lti_context_id": ctx.id}
    if keep_user is not None:
        params["keep_user_id"] = keep_user
    return start_operation(s, rt, ctx.tenant_id, OPERATION_TYPE, params, actor)


def _client(rt: Runtime, reg: LtiRegistration) -> RosterSource:
    key = current_key(rt)
    return rt.roster_source(
        Platform(
            issuer=reg.issuer,
            client_id=reg.client_id,
            token_url=reg.auth_token_url,
            audience=reg.auth_audience,
            kid=key.kid,
            private_pem=key.private_pem,
        )
    )


@dataclass
class RosterCheckpoint(Checkpoint):
    """A roster sync between pages: full or differences (NRPS 2.0 §2.4.2), the next page's URL,
    and the counts so far."""

    mode: str = "full"
    url: str = ""
    done: int = 0
    added: int = 0
    removed: int = 0
    created: int = 0

    def result(self, group_id: int) -> dict[str, Any]:
        return {
            "group_id": group_id,
            "mode": self.mode,
            "members_read": self.done,
            "added": self.added,
            "removed": self.removed,
            "users_created": self.created,
        }


def roster_sync_chunk(
    rt: Runtime, operation_id: int, tenant_id: int, params: dict[str, Any], checkpoint: dict[str, Any]
) -> dict[str, Any] | None:
    """One page of the roster: fetch it, apply it, checkpoint the next page's URL."""
    with rt.db.read() as s:
        ctx = s.get(LtiContext, int(params["lti_context_id"]))
        if ctx is None or ctx.tenant_id != tenant_id:
            raise NotFound(N_("LTI context %(context_id)s no longer exists."), context_id=params["lti_context_id"])
        reg = s.get_one(LtiRegistration, ctx.registration_id)
    if reg.revoked_at is not None:  # revoked while the sync was queued or running: stop at the next page
        raise Forbidden(REVOKED)
    if checkpoint:
        at = RosterCheckpoint.from_json(checkpoint)
    else:
        at = RosterCheckpoint(
            mode="diff" if ctx.differences_url else "full", url=ctx.differences_url or ctx.memberships_url or ""
        )
    page = _client(rt, reg).members_page(at.url, origin=ctx.memberships_url)
    with rt.db.transaction() as s:
        group_id = _ensure_roster_group(s, ctx)
        keep = params.get("keep_user_id")
        keep_user = int(keep) if isinstance(keep, int) else None
        counts = _apply_page(
            s,
            tenant_id,
            reg.issuer,
            ctx,
            group_id,
            page,
            operation_id,
            full=at.mode == "full",
            keep_user=keep_user,
            rt=rt,
        )
        state = replace(
            at,
            done=at.done + len(page.members),
            added=at.added + counts["added"],
            removed=at.removed + counts["removed"],
            created=at.created + counts["created"],
        )
        if page.next_url:
            state.url = page.next_url
            save_progress(s, operation_id, done=state.done, checkpoint=state.to_json(), result=state.result(group_id))
            return state.to_json()
        if at.mode == "full":
            state.removed += _remove_unseen(s, tenant_id, ctx, group_id, operation_id, keep_user)
        row = s.get_one(LtiContext, ctx.id)
        row.last_synced_at = utcnow()
        row.differences_url = page.differences_url
        touch_group(s, group_id)
        record(s, tenant_id, Actor.system("job"), "lti.roster.synced", "group", group_id, state.result(group_id))
        save_progress(
            s,
            operation_id,
            done=state.done,
            total=state.done,
            checkpoint=state.to_json(),
            result=state.result(group_id),
        )
    return None


def _ensure_roster_group(s: Session, ctx: LtiContext) -> int:
    row = s.get_one(LtiContext, ctx.id, with_for_update=True)
    if row.roster_group_id is not None and s.get(Group, row.roster_group_id) is not None:
        return row.roster_group_id
    course = s.get_one(Course, row.course_id)
    name = f"Roster: {course.title or course.external_id}"[:380]
    if s.scalar(select(Group.id).where(Group.tenant_id == row.tenant_id, func.lower(Group.name) == name.lower())):
        name = f"{name} ({course.external_id})"[:400]
    group = add_group(
        s,
        row.tenant_id,
        {"name": name, "kind": "roster", "source": "lti", "external_id": f"lti-roster:{course.external_id}"[:320]},
        Actor.system("lti"),
    )
    s.execute(
        insert_ignoring_conflicts(s, CourseGroup.__table__),
        [dict(course_id=course.id, group_id=group.id, tenant_id=row.tenant_id)],
    )
    row.roster_group_id = group.id
    return group.id


def _resolve_users(
    s: Session, tenant_id: int, issuer: str, members: list[dict[str, Any]], *, create: set[str]
) -> tuple[dict[str, int], int, list[int]]:
    """sub -> user id for the page's members: by link, then by email, then new users for ``create``;
    with how many new users were inserted and their ids."""
    subs = sorted({str(m["user_id"]) for m in members})
    found: dict[str, int] = {}
    for chunk in chunked(subs, IN_LIST):
        found.update(
            (sub, user_id)
            for sub, user_id in s.execute(
                select(LtiUserLink.sub, LtiUserLink.user_id).where(
                    LtiUserLink.tenant_id == tenant_id,
                    LtiUserLink.issuer == issuer,
                    LtiUserLink.sub.in_(chunk),
                )
            )
        )
    values = {
        str(m["user_id"]): person_values(m, issuer, str(m["user_id"]))
        for m in members
        if str(m["user_id"]) not in found
    }
    by_email = find_users_by_email(s, tenant_id, [v["email"] for v in values.values() if v["email"]])
    for sub, v in values.items():
        if v["email"] and identity_key(v["email"]) in by_email:
            found[sub] = by_email[identity_key(v["email"])]
    linked = set(found)
    wanted = [sub for sub in sorted(values) if sub not in found and sub in create]
    # The same refusal as every other channel (provisioning/identity_keys.py): such a member is not created.
    refused = [sub for sub in wanted if any(refusal(values[sub][k]) for k in ("username", "email") if values[sub][k])]
    if refused:
        log.warning("roster sync: %d members not created: their name or email holds invisible characters", len(refused))
    new = [
        dict(
            tenant_id=tenant_id,
            status="active",
            active=True,
            role="learner",
            created_at=utcnow(),
            updated_at=utcnow(),
            custom_attributes={},
            extra={},
            version=1,
            username_key=identity_key(values[sub]["username"]),
            email_key=identity_key(values[sub]["email"]) if values[sub]["email"] else None,
            **values[sub],
        )
        for sub in wanted
        if sub not in refused
    ]
    if new:
        check_seats(s, tenant_id, adding=len(new))
        _insert_rows(s, User.__table__, new)
        ids: dict[str, int] = {}
        for chunk in chunked([row["username_key"] for row in new], IN_LIST):
            ids.update(
                (key, user_id)
                for key, user_id in s.execute(
                    select(User.username_key, User.id).where(User.tenant_id == tenant_id, User.username_key.in_(chunk))
                )
                if key is not None
            )
        created: list[int] = []
        for row, sub in zip(new, [sub for sub in wanted if sub not in refused], strict=True):
            if row["username_key"] in ids:
                found[sub] = ids[row["username_key"]]
                created.append(found[sub])
    _insert_rows(
        s,
        LtiUserLink.__table__,
        [
            dict(tenant_id=tenant_id, issuer=issuer, sub=sub, user_id=uid, created_at=utcnow())
            for sub, uid in found.items()
            if sub not in linked
        ],
    )
    return found, len(new), created if new else []


def _insert_rows(s: Session, table, rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING of rows that differ per row (an executemany, pipelined by psycopg)."""
    if rows:
        s.execute(insert_ignoring_conflicts(s, table), rows)


def _insert_for_users(s: Session, table, user_ids: list[int], constants: dict[str, Any]) -> None:
    """One INSERT ... SELECT per chunk for rows that differ only by user id (seen users, enrollments)."""
    names = list(constants)
    for chunk in chunked(user_ids, IN_LIST):
        rows = select(*(literal(v, type_=table.c[k].type) for k, v in constants.items()), User.id).where(
            User.id.in_(chunk)
        )
        s.execute(insert_ignoring_conflicts(s, table).from_select([*names, "user_id"], rows))


def _apply_page(
    s: Session,
    tenant_id: int,
    issuer: str,
    ctx: LtiContext,
    group_id: int,
    page: MembersPage,
    operation_id: int,
    *,
    full: bool,
    keep_user: int | None = None,
    rt: Runtime | None = None,
) -> dict[str, int]:
    members = [m for m in page.members if m.get("user_id")]
    active = {str(m["user_id"]) for m in members if (m.get("status") or "Active") == "Active"}
    users, created, created_ids = _resolve_users(s, tenant_id, issuer, members, create=active)
    active_ids = sorted({users[sub] for sub in active if sub in users})
    staff = {
        users[str(m["user_id"])]
        for m in members
        if str(m["user_id"]) in active and str(m["user_id"]) in users and manages_course(_member_role(m))
    }
    learner_ids = [uid for uid in active_ids if uid not in staff]
    # Staff are not members of the learner roster; whoever left, or is listed as staff, leaves the group.
    leaving_ids = sorted(({uid for sub, uid in users.items() if sub not in active} - set(active_ids)) | staff)
    added = insert_members(s, tenant_id, group_id, learner_ids, "roster")
    # Only the roster's own members: people a manager added by hand (source manual) stay (issue 19).
    removed = delete_members(s, group_id, leaving_ids, source="roster")
    stamp = _update_enrollments(s, tenant_id, ctx.course_id, members, users, active, keep_user)
    if rt is not None:  # automatic notifications, one INSERT ... SELECT each (replayed pages add nothing)
        trigger_events.seats_assigned(s, rt, tenant_id, created_ids, operation_id=operation_id)
        trigger_events.members_added(s, rt, tenant_id, group_id, added, operation_id=operation_id)
        trigger_events.enrollments_created(
            s, rt, tenant_id, active_ids, stamp, course_id=ctx.course_id, operation_id=operation_id
        )
    if full and active_ids:
        _insert_for_users(
            s, LtiRosterSeen.__table__, active_ids, {"operation_id": operation_id, "tenant_id": tenant_id}
        )
    # Membership and enrollments changed: automatic groups follow, in this chunk's transaction.
    reevaluate_users(s, tenant_id, sorted(set(users.values())))
    return {"added": len(added), "removed": len(removed), "created": created}


def _member_role(member: dict[str, Any]) -> str:
    """A membership's course role (NRPS 2.0 §2.2: its roles are context roles); Learner when it names none."""
    return course_role(member.get("roles")) or "Learner"


def _update_enrollments(
    s: Session,
    tenant_id: int,
    course_id: int,
    members: list[dict[str, Any]],
    users: dict[str, int],
    active: set[str],
    keep_user: int | None,
) -> datetime:
    """Insert missing enrollments; change role or status only where they differ (one UPDATE per role).

    The enrollment of ``keep_user`` (who started the sync) is left as their launch made it.  Returns
    the time stamped on the enrollments it created."""
    now = utcnow()
    wanted: dict[int, str] = {}
    for m in members:
        sub = str(m["user_id"])
        if sub in users and sub in active and users[sub] != keep_user:
            wanted[users[sub]] = _member_role(m)
    gone = sorted({uid for sub, uid in users.items() if sub not in active} - set(wanted) - {keep_user})
    ids = sorted(set(wanted) | set(gone))
    existing: dict[int, tuple[str | None, str]] = {}
    for chunk in chunked(ids, IN_LIST):
        existing.update(
            (uid, (role, status))
            for uid, role, status in s.execute(
                select(Enrollment.user_id, Enrollment.role, Enrollment.status).where(
                    Enrollment.course_id == course_id, Enrollment.user_id.in_(chunk)
                )
            )
        )
    missing: dict[str, list[int]] = defaultdict(list)
    for uid, role in wanted.items():
        if uid not in existing:
            missing[role].append(uid)
    for role, role_ids in missing.items():
        _insert_for_users(
            s,
            Enrollment.__table__,
            role_ids,
            {
                "tenant_id": tenant_id,
                "course_id": course_id,
                "role": role,
                "status": "enrolled",
                "created_at": now,
                "updated_at": now,
            },
        )
    changed: dict[str, list[int]] = defaultdict(list)
    for uid, role in wanted.items():
        if uid in existing and (existing[uid][0] != role or existing[uid][1] == "dropped"):
            changed[role].append(uid)
    for role, role_ids in changed.items():
        for chunk in chunked(role_ids, IN_LIST):
            s.execute(
                update(Enrollment)
                .where(Enrollment.course_id == course_id, Enrollment.user_id.in_(chunk))
                .values(
                    role=role,
                    status=case((Enrollment.status == "dropped", "enrolled"), else_=Enrollment.status),
                    updated_at=now,
                )
            )
    leaving = [uid for uid in gone if uid in existing and existing[uid][1] != "dropped"]
    for chunk in chunked(leaving, IN_LIST):
        s.execute(
            update(Enrollment)
            .where(Enrollment.course_id == course_id, Enrollment.user_id.in_(chunk))
            .values(status="dropped", updated_at=now)
        )
    return now


def _remove_unseen(
    s: Session, tenant_id: int, ctx: LtiContext, group_id: int, operation_id: int, keep_user: int | None
) -> int:
    """End of a full sync: whoever the platform did not list leaves the roster group (one DELETE), and their
    enrollment is dropped, except staff's (a list that leaves instructors out does not remove them) and the
    enrollment of the person who started the sync."""
    seen = select(LtiRosterSeen.user_id).where(LtiRosterSeen.operation_id == operation_id)
    removed = s.scalars(
        Membership.__table__.delete()
        .where(Membership.group_id == group_id, Membership.source == "roster", Membership.user_id.not_in(seen))
        .returning(Membership.user_id)
    ).all()
    kept = [keep_user] if keep_user is not None else []
    dropped = s.scalars(
        update(Enrollment)
        .where(
            Enrollment.course_id == ctx.course_id,
            Enrollment.status != "dropped",
            Enrollment.user_id.not_in(seen),
            or_(Enrollment.role.is_(None), Enrollment.role.not_in(COURSE_MANAGER_ROLES)),
            Enrollment.user_id.not_in(kept),
        )
        .values(status="dropped", updated_at=utcnow())
        .returning(Enrollment.user_id)
    ).all()
    s.execute(LtiRosterSeen.__table__.delete().where(LtiRosterSeen.operation_id == operation_id))
    reevaluate_users(s, tenant_id, sorted(set(removed) | set(dropped)))
    return len(removed)
