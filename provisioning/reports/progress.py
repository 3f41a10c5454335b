"""The group progress report: how a group's members are doing in their courses, computed in SQL.

Per course its members are enrolled in (or that the group belongs to): how many members are
enrolled, in progress, completed, the completion rate and the last activity; and per member
and course the status, completion date and last activity (the rows of the CSV and XLSX).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, select

from provisioning.chunking import IN_LIST, chunked
from provisioning.exports import streamed_rows
from provisioning.models import Course, CourseGroup, Enrollment, Group, Membership, User
from provisioning.runtime import Runtime
from provisioning.store.groups import load_group

CHUNK = 1000
PROGRESS_HEADER = [
    "First name",
    "Last name",
    "Email",
    "Username",
    "Course",
    "Course id",
    "Status",
    "Completed at",
    "Last activity",
]


@dataclass
class CourseProgress:
    course_id: int
    external_id: str
    title: str
    enrolled: int
    in_progress: int
    completed: int
    completion_rate: float  # completed / enrolled (0 when nobody is enrolled), 0..1 rounded to 4 places
    last_activity: datetime | None


@dataclass
class GroupProgress:
    group_id: int
    group_name: str
    members: int
    enrolled_members: int
    completed_enrollments: int
    completion_rate: float
    last_activity: datetime | None
    courses: list[CourseProgress] = field(default_factory=list)


def _activity(enrollment: Any = Enrollment) -> Any:
    """An enrollment's last activity: its completion or its last change, whichever is later."""
    return case(
        (
            and_(enrollment.completed_at.is_not(None), enrollment.completed_at > enrollment.updated_at),
            enrollment.completed_at,
        ),
        else_=enrollment.updated_at,
    )


def group_progress(rt: Runtime, tenant_id: int, group_id: int) -> GroupProgress:
    """The group's figures (NotFound for no such group of the tenant): a few grouped counts, no rows loaded."""
    active = Enrollment.status != "dropped"
    with rt.db.read() as s:
        group = load_group(s, tenant_id, group_id)
        members = s.scalar(select(func.count()).select_from(Membership).where(Membership.group_id == group.id)) or 0
        member_ids = select(Membership.user_id).where(Membership.group_id == group.id)
        # The members' enrollments counted per course in one pass (a join, as a hand-written GROUP BY would),
        # then the courses the group belongs to that none of them is enrolled in, with zeros: an OR of two IN
        # lists over every course of the tenant cost three times that pass at 100,000 members.
        counted = {
            row[0]: row[1:]
            for row in s.execute(
                select(
                    Enrollment.course_id,
                    func.count(Enrollment.user_id),
                    func.count(case((Enrollment.status == "in_progress", 1))),
                    func.count(case((Enrollment.status == "completed", 1))),
                    func.max(_activity()),
                )
                .join(Membership, and_(Membership.user_id == Enrollment.user_id, Membership.group_id == group.id))
                .where(Enrollment.tenant_id == tenant_id, active)
                .group_by(Enrollment.course_id)
            )
        }
        linked = set(s.scalars(select(CourseGroup.course_id).where(CourseGroup.group_id == group.id)))
        title = func.coalesce(Course.title, Course.external_id)
        names = sorted(
            (
                row
                for ids in chunked(sorted(linked | set(counted)), IN_LIST)
                for row in s.execute(
                    select(Course.id, Course.external_id, title).where(
                        Course.tenant_id == tenant_id, Course.id.in_(ids)
                    )
                )
            ),
            key=lambda row: (row[2].lower(), row[0]),
        )
        per_course = [(cid, ext, title, *counted.get(cid, (0, 0, 0, None))) for cid, ext, title in names]
        enrolled_members = (
            s.scalar(
                select(func.count(func.distinct(Enrollment.user_id))).where(
                    Enrollment.tenant_id == tenant_id, active, Enrollment.user_id.in_(member_ids)
                )
            )
            or 0
        )
        last_login = s.scalar(
            select(func.max(User.last_login_at)).where(User.tenant_id == tenant_id, User.id.in_(member_ids))
        )
    courses = [
        CourseProgress(
            course_id=cid,
            external_id=ext,
            title=title,
            enrolled=enrolled,
            in_progress=in_progress,
            completed=completed,
            completion_rate=round(completed / enrolled, 4) if enrolled else 0.0,
            last_activity=last,
        )
        for cid, ext, title, enrolled, in_progress, completed, last in per_course
    ]
    enrollments = sum(c.enrolled for c in courses)
    completed_all = sum(c.completed for c in courses)
    moments = [m for m in [last_login, *(c.last_activity for c in courses)] if m is not None]
    return GroupProgress(
        group_id=group.id,
        group_name=group.name,
        members=members,
        enrolled_members=enrolled_members,
        completed_enrollments=completed_all,
        completion_rate=round(completed_all / enrollments, 4) if enrollments else 0.0,
        last_activity=max(moments) if moments else None,
        courses=courses,
    )


def _rows_query(tenant_id: int) -> Select:
    """Each (member, course) row of the report, with the member's id first (for keyset chunks)."""
    return (
        select(
            User.id,
            User.given_name,
            User.family_name,
            User.email,
            User.username,
            func.coalesce(Course.title, Course.external_id),
            Course.external_id,
            Enrollment.status,
            Enrollment.completed_at,
            func.coalesce(_activity(), User.last_login_at),
        )
        .select_from(User)
        .outerjoin(Enrollment, and_(Enrollment.user_id == User.id, Enrollment.status != "dropped"))
        .outerjoin(Course, Course.id == Enrollment.course_id)
        .where(User.tenant_id == tenant_id)
    )


def rows_chunk(rt: Runtime, tenant_id: int, group_id: int, after_user_id: int) -> tuple[list[list[Any]], int | None]:
    """The rows of the next CHUNK members after ``after_user_id`` (user id order), and the last member's id
    (None when no member is left).  A member without enrollments has one row without a course."""
    with rt.db.read() as s:
        users = list(
            s.scalars(
                select(Membership.user_id)
                .where(
                    Membership.group_id == group_id,
                    Membership.tenant_id == tenant_id,
                    Membership.user_id > after_user_id,
                )
                .order_by(Membership.user_id)
                .limit(CHUNK)
            )
        )
        if not users:
            return [], None
        batch = s.execute(_rows_query(tenant_id).where(User.id.in_(users)).order_by(User.id, Course.external_id)).all()
    return [list(row[1:]) for row in batch], users[-1]


def progress_rows(rt: Runtime, tenant_id: int, group_id: int) -> Iterator[list[Any]]:
    """Every row of the report, streamed so memory stays flat; NotFound first for no such group.

    On PostgreSQL one query read through a server-side cursor and planned without nested loops, as the
    member export is (provisioning/exports.py: a loop planned on stale statistics scans the users once per
    member); 100 keyset chunks of an IN list each took 14x a COPY of the same rows (bench group_report).
    Elsewhere (SQLite) the keyset chunks of :func:`rows_chunk`."""
    with rt.db.read() as s:
        load_group(s, tenant_id, group_id)
    if rt.db.dialect == "postgresql":
        members = select(Membership.user_id).where(Membership.group_id == group_id, Membership.tenant_id == tenant_id)
        yield from streamed_rows(
            rt, _rows_query(tenant_id).where(User.id.in_(members)).order_by(User.id, Course.external_id)
        )
        return
    after: int | None = 0
    while after is not None:
        rows, after = rows_chunk(rt, tenant_id, group_id, after)
        yield from rows


def group_exists(rt: Runtime, tenant_id: int, group_id: int) -> Group:
    with rt.db.read() as s:
        return load_group(s, tenant_id, group_id)
