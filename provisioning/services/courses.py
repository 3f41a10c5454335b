"""Courses and enrollments: create courses, enroll users one at a time or in bulk (set-based upserts).

An enrollment names its user by id or email and its course by the course's external id
(the LMS context id).  Every enrollment change re-evaluates the enrolled users against
the tenant's automatic groups, since rules may test enrollment status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from provisioning.activity import Actor, record
from provisioning.chunking import chunked
from provisioning.errors import Conflict, InvalidInput, LimitExceeded, NotFound
from provisioning.i18n import N_
from provisioning.identity_keys import identity_key
from provisioning.mail import trigger_events
from provisioning.models import ENROLLMENT_STATUSES, Course, CourseGroup, Enrollment, User, utcnow
from provisioning.pagination import Page
from provisioning.roles import COURSE_MANAGER_ROLES, stored_course_role
from provisioning.rules.definition import mark_rules_naming_course_broken, reevaluate_users
from provisioning.rules.references import Change
from provisioning.runtime import Runtime
from provisioning.store.enrollments import COMPLETED, updated_completed_at
from provisioning.store.users import find_users_by_email, load_user, tenant_user_ids

CHUNK = 500
MAX_ROWS = 10_000


@dataclass
class EnrollmentResult:
    created: int
    updated: int
    user_ids: list[int]


# --- courses ---------------------------------------------------------------------------------


def add_course(s: Session, tenant_id: int, external_id: str, title: str | None, actor: Actor) -> Course:
    """Create a course inside an open unit of work; its external id is unique in the tenant."""
    external_id = (external_id or "").strip()
    errors: dict[str, list[str]] = {}
    if not external_id:
        errors["external_id"] = [N_("Must not be empty.")]
    elif len(external_id) > 320:
        errors["external_id"] = [N_("At most 320 characters.")]
    if title is not None and len(title) > 400:
        errors["title"] = [N_("At most 400 characters.")]
    if errors:
        raise InvalidInput(N_("Some course attributes are invalid."), details=errors)
    if s.scalar(select(Course.id).where(Course.tenant_id == tenant_id, Course.external_id == external_id)):
        raise Conflict(
            N_("A course with external_id %(external_id)r already exists."),
            field="external_id",
            external_id=external_id,
        )
    course = Course(tenant_id=tenant_id, external_id=external_id, title=title)
    s.add(course)
    try:
        with s.begin_nested():
            s.flush()
    except IntegrityError as exc:  # a concurrent request created it first
        raise Conflict(
            N_("A course with external_id %(external_id)r already exists."),
            field="external_id",
            external_id=external_id,
        ) from exc
    record(s, tenant_id, actor, "course.created", "course", course.id, {"external_id": external_id})
    return course


def create_course(rt: Runtime, tenant_id: int, external_id: str, title: str | None, actor: Actor) -> Course:
    """Create a course (POST /api/v1/courses)."""
    with rt.db.transaction() as s:
        return add_course(s, tenant_id, external_id, title, actor)


def delete_course(rt: Runtime, tenant_id: int, external_id: str, actor: Actor) -> None:
    """Delete a course and its enrollments; automatic groups whose rule names it are marked broken."""
    with rt.db.transaction() as s:
        course = s.scalar(select(Course).where(Course.tenant_id == tenant_id, Course.external_id == external_id))
        if course is None:
            raise NotFound(N_("No course with external_id %(external_id)r."), external_id=external_id)
        s.delete(course)
        record(s, tenant_id, actor, "course.deleted", "course", course.id, {"external_id": external_id})
        s.flush()
        mark_rules_naming_course_broken(s, tenant_id, external_id, actor)


# --- enrollments -----------------------------------------------------------------------------


def parse_when(value: Any) -> datetime | None:
    """An ISO 8601 date or date-time (UTC when no offset is given); ValueError when it is not one."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        text = str(value).strip()
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
    if not 1900 <= parsed.year <= 9000:  # also keeps the conversion to UTC from overflowing
        raise ValueError("year out of range")
    return parsed


def _check_rows(rows: Sequence[dict[str, Any]], where: str | None) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """Normalise enrollment rows; errors are keyed like "3.email" (row index, field)."""
    clean: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}

    def fail(index: int, field: str, message: str) -> None:
        errors.setdefault(f"{where}{index}.{field}" if where is not None else field, []).append(message)

    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            fail(index, "_row", "Must be an object.")
            continue
        email, user_id, course = row.get("email"), row.get("user_id"), row.get("course_id")
        if not email and user_id is None:
            fail(index, "email", "Give email or user_id.")
        if user_id is not None and (isinstance(user_id, bool) or not isinstance(user_id, int)):
            fail(index, "user_id", "Must be an integer.")
        if not isinstance(course, str) or not course.strip():
            fail(index, "course_id", "Give the course's external id.")
        status = row.get("status") or "enrolled"
        if status not in ENROLLMENT_STATUSES:
            fail(index, "status", f"Must be one of {', '.join(ENROLLMENT_STATUSES)}.")
        role = row.get("role")
        if role is not None and (not isinstance(role, str) or len(role) > 100):
            fail(index, "role", "Must be text of at most 100 characters.")
        try:
            completed_at = parse_when(row.get("completed_at"))
        except (TypeError, ValueError):
            fail(index, "completed_at", "Must be an ISO 8601 date or date-time, like 2024-05-31T12:00:00Z.")
            completed_at = None
        clean.append(
            {
                "index": index,
                "email": identity_key(email) if isinstance(email, str) else None,
                "user_id": user_id,
                "course": course.strip() if isinstance(course, str) else None,
                "role": stored_course_role(role) if isinstance(role, str) else None,
                "status": status,
                "completed_at": completed_at,
            }
        )
    return clean, errors


def _resolve(
    s: Session, tenant_id: int, rows: list[dict[str, Any]], where: str | None, errors: dict[str, list[str]]
) -> None:
    """Fill in user and course ids (chunked IN lookups); unknown ones become row errors."""
    by_email = find_users_by_email(s, tenant_id, [r["email"] for r in rows if r["email"]])
    ids = sorted({r["user_id"] for r in rows if isinstance(r["user_id"], int)})
    known_ids = tenant_user_ids(s, tenant_id, ids)
    courses = sorted({r["course"] for r in rows if r["course"]})
    course_ids: dict[str, int] = {}
    for chunk in chunked(courses, CHUNK):
        course_ids.update(
            s.execute(
                select(Course.external_id, Course.id).where(
                    Course.tenant_id == tenant_id, Course.external_id.in_(chunk)
                )
            ).all()
        )

    def fail(row: dict[str, Any], field: str, message: str) -> None:
        key = f"{where}{row['index']}.{field}" if where is not None else field
        errors.setdefault(key, []).append(message)

    for row in rows:
        if row["user_id"] is not None:
            if row["user_id"] not in known_ids:
                fail(row, "user_id", f"No user with id {row['user_id']}.")
        elif row["email"]:
            row["user_id"] = by_email.get(row["email"])
            if row["user_id"] is None:
                fail(row, "email", f"No user with email {row['email']!r}.")
        if row["course"]:
            row["course_pk"] = course_ids.get(row["course"])
            if row["course_pk"] is None:
                fail(row, "course_id", f"No course with external id {row['course']!r}.")


def _upsert(s: Session, tenant_id: int, rows: list[dict[str, Any]], rt: Runtime | None = None) -> tuple[int, int]:
    """INSERT ... ON CONFLICT (course_id, user_id) DO UPDATE, in chunks; returns (created, updated).

    With ``rt``, each chunk also fires the enrolled and completed notifications (one INSERT ... SELECT
    into the outbox each; the rows this statement stamped are the events)."""
    dialect = s.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    created = updated = 0
    for chunk in chunked(rows, CHUNK):
        pairs = [(r["course_pk"], r["user_id"]) for r in chunk]
        chunk_users = sorted({r["user_id"] for r in chunk})
        before = trigger_events.completed_before(s, tenant_id, chunk_users) if rt is not None else set()
        existing = (
            s.scalar(
                select(func.count())
                .select_from(Enrollment)
                .where(tuple_(Enrollment.course_id, Enrollment.user_id).in_(pairs))
            )
            or 0
        )
        stmt = insert(Enrollment).values(
            [
                dict(
                    tenant_id=tenant_id,
                    course_id=r["course_pk"],
                    user_id=r["user_id"],
                    role=r["role"],
                    status=r["status"],
                    # completed without a time: the time of this change (provisioning.store.enrollments)
                    completed_at=r["completed_at"] or (now if r["status"] == COMPLETED else None),
                    created_at=now,
                    updated_at=now,
                )
                for r in chunk
            ]
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[Enrollment.course_id, Enrollment.user_id],
            set_={
                "role": stmt.excluded.role,
                "status": stmt.excluded.status,
                "completed_at": updated_completed_at(stmt.excluded, now),
                "updated_at": stmt.excluded.updated_at,
            },
        )
        s.execute(stmt)
        if rt is not None:
            trigger_events.enrollments_created(s, rt, tenant_id, chunk_users, now)
            trigger_events.enrollments_completed(s, rt, tenant_id, chunk_users, now, before)
        created += len(chunk) - existing
        updated += existing
    return created, updated


def enroll_many(
    rt: Runtime, tenant_id: int, rows: Sequence[dict[str, Any]], actor: Actor, *, where: str | None = ""
) -> EnrollmentResult:
    """Create or update enrollments; all rows are checked first and any error changes nothing.

    Each row: ``email`` or ``user_id``, ``course_id`` (the course's external id), ``role``,
    ``status`` (enrolled | in_progress | completed | dropped), ``completed_at``.  A later row
    for the same user and course wins.  ``where`` prefixes error keys ("" gives "3.email",
    None gives bare field names for a single enrollment).
    """
    if len(rows) > MAX_ROWS:
        raise LimitExceeded(N_("At most %(most)s enrollments per request."), limit="rows", most=MAX_ROWS)
    if not rows:
        raise InvalidInput(N_("Give at least one enrollment."), details={"json": [N_("The list is empty.")]})
    clean, errors = _check_rows(rows, where)
    with rt.db.transaction() as s:
        if not errors:
            _resolve(s, tenant_id, clean, where, errors)
        if errors:
            raise InvalidInput(N_("Some enrollments are invalid; nothing was changed."), details=errors)
        latest = {(r["course_pk"], r["user_id"]): r for r in clean}  # the last row for a pair wins
        created, updated = _upsert(s, tenant_id, list(latest.values()), rt)
        user_ids = sorted({uid for _, uid in latest})
        record(
            s,
            tenant_id,
            actor,
            "enrollments.saved",
            "course",
            None,
            {"created": created, "updated": updated, "users": len(user_ids)},
        )
        reevaluate_users(s, tenant_id, user_ids, rt=rt, change=Change(enrollments=True))
    return EnrollmentResult(created=created, updated=updated, user_ids=user_ids)


def enroll(rt: Runtime, tenant_id: int, values: dict[str, Any], actor: Actor) -> Enrollment:
    """Create or update one enrollment; returns it."""
    enroll_many(rt, tenant_id, [values], actor, where=None)
    with rt.db.read() as s:
        course_pk = s.scalar(
            select(Course.id).where(
                Course.tenant_id == tenant_id, Course.external_id == str(values["course_id"]).strip()
            )
        )
        user_filter = (
            (Enrollment.user_id == values["user_id"])
            if values.get("user_id") is not None
            else Enrollment.user_id.in_(
                select(User.id).where(User.tenant_id == tenant_id, User.email_key == identity_key(values["email"]))
            )
        )
        return s.scalars(select(Enrollment).where(Enrollment.course_id == course_pk, user_filter)).one()


def list_enrollments(rt: Runtime, tenant_id: int, user_id: int, *, page: int = 1, per_page: int = 50) -> Page[Any]:
    """A user's enrollments (GET /api/v1/users/{id}/enrollments), by course name: each row a dict with the
    course's external id and title; 404 for no such user of the tenant."""
    name = func.coalesce(Course.title, Course.external_id)
    with rt.db.read() as s:
        load_user(s, tenant_id, user_id)
        stmt = (
            select(
                Enrollment.id,
                Enrollment.user_id,
                Course.external_id.label("course_id"),
                Course.title.label("course_title"),
                Enrollment.role,
                Enrollment.status,
                Enrollment.completed_at,
                Enrollment.created_at,
                Enrollment.updated_at,
            )
            .join(Course, Course.id == Enrollment.course_id)
            .where(Enrollment.tenant_id == tenant_id, Enrollment.user_id == user_id)
            .order_by(func.lower(name), Enrollment.id)
        )
        page, per_page = max(page, 1), max(per_page, 1)
        total = s.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
        rows = [dict(row._mapping) for row in s.execute(stmt.limit(per_page).offset((page - 1) * per_page))]
    return Page(items=rows, total=total, page=page, per_page=per_page)


def course_ids_by_external_id(s: Session, tenant_id: int, external_ids: Sequence[str]) -> dict[str, int]:
    """Map those of ``external_ids`` that are courses of the tenant to their ids."""
    wanted = sorted(set(external_ids))
    return (
        dict(
            s.execute(
                select(Course.external_id, Course.id).where(
                    Course.tenant_id == tenant_id, Course.external_id.in_(wanted)
                )
            ).all()
        )
        if wanted
        else {}
    )


__all__ = [
    "EnrollmentResult",
    "add_course",
    "create_course",
    "delete_course",
    "enroll",
    "enroll_many",
    "list_enrollments",
    "course_ids_by_external_id",
]


# --- reading courses for the UI ------------------------------------------------------------------


def courses_of_groups(rt: Runtime, tenant_id: int, group_ids: Sequence[int]) -> dict[int, list[Course]]:
    """The courses each group is linked to (course groups of LMS courses), by group id."""
    found: dict[int, list[Course]] = {}
    with rt.db.read() as s:
        for group_id, course in s.execute(
            select(CourseGroup.group_id, Course)
            .join(Course, Course.id == CourseGroup.course_id)
            .where(Course.tenant_id == tenant_id, CourseGroup.group_id.in_(list(group_ids)))
            .order_by(Course.title, Course.id)
        ):
            found.setdefault(group_id, []).append(course)
    return found


def managers_of_groups(rt: Runtime, tenant_id: int, group_ids: Sequence[int]) -> dict[int, list[str]]:
    """Who manages each group: the instructors and TAs of its courses (emails, else usernames), by group id."""
    found: dict[int, list[str]] = {}
    with rt.db.read() as s:
        rows = s.execute(
            select(CourseGroup.group_id, func.coalesce(User.email, User.username))
            .distinct()
            .join(Enrollment, Enrollment.course_id == CourseGroup.course_id)
            .join(User, User.id == Enrollment.user_id)
            .where(
                User.tenant_id == tenant_id,
                CourseGroup.group_id.in_(list(group_ids)),
                Enrollment.role.in_(sorted(COURSE_MANAGER_ROLES)),
                Enrollment.status != "dropped",
            )
            .order_by(CourseGroup.group_id, func.coalesce(User.email, User.username))
        )
        for group_id, who in rows:
            found.setdefault(group_id, []).append(who)
    return found


def course_name(rt: Runtime, tenant_id: int, course_id: int) -> str | None:
    """How people name a course: its title (the LTI context title, else its label, as the launch stored it),
    else its external id (the context id); None for no such course of the tenant."""
    with rt.db.read() as s:
        return s.scalar(
            select(func.coalesce(Course.title, Course.external_id)).where(
                Course.tenant_id == tenant_id, Course.id == course_id
            )
        )


def course_roles_of_user(rt: Runtime, tenant_id: int, user_id: int) -> list[tuple[str, str]]:
    """(course role, course name) of each course the user is enrolled in, e.g. ("Instructor", "Biology 101")."""
    with rt.db.read() as s:
        rows = s.execute(
            select(Enrollment.role, func.coalesce(Course.title, Course.external_id))
            .join(Course, Course.id == Enrollment.course_id)
            .where(Course.tenant_id == tenant_id, Enrollment.user_id == user_id, Enrollment.status != "dropped")
            .order_by(func.coalesce(Course.title, Course.external_id), Enrollment.role)
        )
        return [(role or "Member", name) for role, name in rows]


def course_titles_of_users(rt: Runtime, tenant_id: int, user_ids: Sequence[int]) -> dict[int, list[str]]:
    """The courses each user is enrolled in (titles, else external ids), by user id."""
    found: dict[int, list[str]] = {}
    with rt.db.read() as s:
        rows = s.execute(
            select(Enrollment.user_id, func.coalesce(Course.title, Course.external_id))
            .join(Course, Course.id == Enrollment.course_id)
            .where(
                Course.tenant_id == tenant_id, Enrollment.user_id.in_(list(user_ids)), Enrollment.status != "dropped"
            )
            .order_by(Enrollment.user_id, Course.title)
        )
        for user_id, title in rows:
            found.setdefault(user_id, []).append(title)
    return found
