"""A person's progress in a course, changed on their page: enrol them, mark a course completed, or back to in progress.

Who may change it (checked here on every save, whatever the page showed):

* an admin (or a tenant role granting ``manage_users`` tenant-wide), anyone's progress in any of the
  tenant's courses;
* a manager with ``manage_users``, the progress of the people they may act on
  (:func:`provisioning.permissions.can`: members of their groups, people shared with them) in the courses
  of their groups only (:func:`provisioning.permissions.course_scope`); never their own, and never the
  enrollment of a course's staff (an instructor's or a TA's), which the LMS decides.

Every change is saved by :func:`provisioning.services.courses.enroll`, the admin API's own path
(``POST /api/v1/enrollments``), so the ``enrolled`` and ``completed`` notifications, the automatic groups
and the activity log follow exactly as they do there: one email per event, none for a replay.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import func, select

from provisioning import permissions
from provisioning.activity import Actor
from provisioning.errors import Forbidden, InvalidInput, NotFound
from provisioning.i18n import N_, Message
from provisioning.models import Course, Enrollment, User
from provisioning.permissions import Principal
from provisioning.roles import manages_course
from provisioning.runtime import Runtime
from provisioning.services import courses, users

# What the page may set: the statuses a person's progress moves through (dropped is the LMS's).
PROGRESS = ("enrolled", "in_progress", "completed")
LEARNER_ROLE = "Learner"  # the course role of someone enrolled from their page (as a group's enrollment gives)
MAX_COURSES = 500  # the most courses the page offers to enrol in
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Progress:
    """A person's progress in one course, as saved."""

    course_id: int
    course: str  # the course's name (its title, else its external id)
    status: str
    completed_at: datetime | None


def today() -> date:
    """Today, as the service counts days (UTC: the dates the pages show)."""
    return datetime.now(UTC).date()


def may_change(rt: Runtime, principal: Principal, user: User) -> bool:
    """May ``principal`` change ``user``'s progress in at least the courses of :func:`course_choices`?"""
    if user.tenant_id != principal.tenant_id:
        return False
    if principal.role == "admin":
        return True
    if user.id == principal.user_id:
        return False
    return permissions.can(rt, principal, "manage_users", user)


def course_choices(rt: Runtime, principal: Principal) -> list[tuple[int, str]]:
    """(id, name) of the courses whose progress the principal may change, by name."""
    name = func.coalesce(Course.title, Course.external_id)
    stmt = select(Course.id, name).where(Course.tenant_id == principal.tenant_id)
    scope = permissions.course_scope(principal)
    if scope is not None:
        stmt = stmt.where(Course.id.in_(scope))
    with rt.db.read() as s:
        return [(cid, title) for cid, title in s.execute(stmt.order_by(func.lower(name), Course.id).limit(MAX_COURSES))]


def _completed_at(raw: str, errors: dict[str, list[str]]) -> datetime | None:
    """The completion time of a date typed as YYYY-MM-DD (empty: today): noon UTC of that day, so it reads as
    the same day in every time zone, or now when noon is still to come."""
    text = raw.strip()
    latest = today()
    if not text:
        day = latest
    elif not ISO_DAY.fullmatch(text):
        errors["completed_on"] = [
            Message(N_("Give the completion date as year-month-day, like %(example)s."), example=latest.isoformat())
        ]
        return None
    else:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            errors["completed_on"] = [Message(N_("%(value)s is not a date in the calendar."), value=text)]
            return None
    if day > latest:
        errors["completed_on"] = [N_("The completion date can't be after today.")]
        return None
    if day.year < 1900:
        errors["completed_on"] = [N_("The completion date must be in 1900 or later.")]
        return None
    return min(datetime.combine(day, time(12), tzinfo=UTC), datetime.now(UTC))


def change_progress(rt: Runtime, principal: Principal, actor: Actor, user_id: int, form: Mapping[str, str]) -> Progress:
    """Save the Courses form of a person's page: ``course`` (a course id), ``status`` (enrolled | in_progress |
    completed) and, when completed, ``completed_on`` (YYYY-MM-DD, today when empty, never after today).

    404 for a person or course the principal can't reach (another tenant's, nobody's, a course outside a
    manager's groups); 403 for a person whose progress they may not change; bad values are one InvalidInput
    naming each field.  Saved through :func:`provisioning.services.courses.enroll`."""
    user = users.get_user(rt, principal.tenant_id, user_id)
    if not may_change(rt, principal, user):
        raise Forbidden(N_("You can't change this person's progress in courses."))
    errors: dict[str, list[str]] = {}
    raw_course = (form.get("course") or "").strip()
    course_id = int(raw_course) if raw_course.isdigit() and len(raw_course) < 19 else None
    if course_id is None:
        errors["course"] = [N_("Choose a course from the list.")]
    status = (form.get("status") or "").strip()
    if status not in PROGRESS:
        errors["status"] = [N_("Choose enrolled, in progress or completed.")]
    completed_at = _completed_at(form.get("completed_on") or "", errors) if status == "completed" else None
    if errors:
        raise InvalidInput(N_("The progress was not saved: check the fields marked below."), details=errors)
    assert course_id is not None
    scope = permissions.course_scope(principal)
    with rt.db.read() as s:
        stmt = select(Course).where(Course.tenant_id == principal.tenant_id, Course.id == course_id)
        course = s.scalar(stmt if scope is None else stmt.where(Course.id.in_(scope)))
        if course is None:
            raise NotFound(N_("That course is not one of the courses you can change progress in."))
        current = s.scalar(select(Enrollment).where(Enrollment.course_id == course.id, Enrollment.user_id == user_id))
    if current is not None and principal.role != "admin" and manages_course(current.role):
        raise Forbidden(N_("You can't change the progress of a course's staff: the LMS decides it."))
    saved = courses.enroll(
        rt,
        principal.tenant_id,
        {
            "user_id": user_id,
            "course_id": course.external_id,
            # Keep the course role the person has (an import's or the LMS's); someone new joins as a learner.
            "role": current.role if current is not None else LEARNER_ROLE,
            "status": status,
            "completed_at": completed_at,
        },
        actor,
    )
    return Progress(course.id, course.title or course.external_id, saved.status, saved.completed_at)
