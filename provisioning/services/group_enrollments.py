"""People added to a group by hand are enrolled in the group's courses, when the tenant's admin says so.

The group-managers article: "If you want users to be enrolled automatically in the included course, the
respective setting must have been enabled by the admin."  The setting is ``enroll_added_members``
(provisioning/settings_catalog.py, off unless an admin turns it on).  It applies to the adds made from a
group's page and to bulk adds into a group, by anyone: one by one (the group page's Add form, and
``POST /api/v1/groups/{id}/members``), an accepted invitation to the group, and bulk add (the group page's
members template, and ``POST /api/v1/imports`` with ``group_id`` and a users file).  Not to members a sync or a rule brings (SCIM, LTI roster, automatic groups),
file imports or member copies: those follow their own sources.

A group's courses are the courses it belongs to (``course_groups``: an LMS course's roster group and the
groups made in it).  Each added person who is not deactivated becomes a learner of each course with one
``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` per chunk of people: an enrollment that exists (any
status, any role) is left as it is, and running it again creates nothing.  Each new enrollment is an
``enrollment.saved`` event in the activity log, fires the ``enrolled`` notification trigger like any
other enrollment (provisioning/mail/trigger_events.py), and re-evaluates the rules that read enrollments.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from provisioning.activity import Actor, event_row, record_many
from provisioning.chunking import IN_LIST, chunked
from provisioning.db import insert_ignoring_conflicts
from provisioning.mail import trigger_events
from provisioning.models import Course, CourseGroup, Enrollment, Tenant, User, utcnow
from provisioning.rules.definition import reevaluate_users
from provisioning.rules.references import Change
from provisioning.runtime import Runtime
from provisioning.settings_catalog import stored

SETTING = "enroll_added_members"
LEARNER = "Learner"  # the LTI course role an enrollment by a group add gets (as a roster sync's learners)


def enabled(s: Session, tenant_id: int) -> bool:
    """Whether the tenant's admin turned on enrolling the people added to a group in its courses."""
    return bool(stored(s.get_one(Tenant, tenant_id).settings, SETTING))


def enroll_added_members(
    s: Session,
    rt: Runtime | None,
    tenant_id: int,
    group_id: int,
    user_ids: Sequence[int],
    actor: Actor,
    *,
    operation_id: int | None = None,
) -> int:
    """Inside the unit of work that added ``user_ids`` to the group: enroll them in the group's courses as
    learners when the setting is on (see the module docstring); returns how many enrollments were created."""
    ids = sorted({int(u) for u in user_ids})
    if not ids or not enabled(s, tenant_id):
        return 0
    stamp = utcnow()
    created: list[tuple[int, int]] = []
    table = Enrollment.__table__
    for chunk in chunked(ids, IN_LIST):
        pairs = (
            select(
                literal(tenant_id),
                CourseGroup.course_id,
                User.id,
                literal(LEARNER),
                literal("enrolled"),
                literal(stamp, type_=table.c.created_at.type),
                literal(stamp, type_=table.c.updated_at.type),
            )
            .select_from(CourseGroup)
            .join(User, User.tenant_id == CourseGroup.tenant_id)
            .where(
                CourseGroup.tenant_id == tenant_id,
                CourseGroup.group_id == group_id,
                User.id.in_(chunk),
                User.status != "deactivated",
            )
        )
        stmt = (
            insert_ignoring_conflicts(s, table)
            .from_select(["tenant_id", "course_id", "user_id", "role", "status", "created_at", "updated_at"], pairs)
            .returning(table.c.user_id, table.c.course_id)
        )
        created.extend((u, c) for u, c in s.execute(stmt).all())
    if not created:
        return 0
    enrolled = sorted({u for u, _ in created})
    external = dict(
        s.execute(
            select(Course.id, Course.external_id).where(
                Course.tenant_id == tenant_id, Course.id.in_(sorted({c for _, c in created}))
            )
        ).all()
    )
    now = utcnow()
    details = {"status": "enrolled", "group_id": group_id}
    record_many(
        s,
        [
            event_row(
                tenant_id, actor, "enrollment.saved", "user", user_id, {"course": external.get(c), **details}, now
            )
            for user_id, c in sorted(created)
        ],
    )
    if rt is not None:
        trigger_events.enrollments_created(s, rt, tenant_id, enrolled, stamp, operation_id=operation_id)
    reevaluate_users(s, tenant_id, enrolled, rt=rt, change=Change(enrollments=True))
    return len(created)
