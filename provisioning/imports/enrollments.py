"""The enrollments format: a CSV of (email | user_id, course_id, role, status, completed_at) through the import flow.

The same flow as the other formats — staged rows with their users resolved while staging,
per-row errors in the preview, a job applying chunks — with set-based checks (unknown user,
unknown course) and a set-based upsert of enrollments per chunk.  Automatic groups follow
the users enrolled, since rules can test enrollments[course eq ... and status eq ...].
"""

from __future__ import annotations

from sqlalchemy import String, and_, cast, exists, func, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from provisioning.activity import Actor
from provisioning.i18n import N_
from provisioning.imports.events import record_events, reevaluate_rules
from provisioning.imports.marks import mark_rows, mark_staged, sql_sentence, user_gone
from provisioning.mail import trigger_events
from provisioning.models import Course, Enrollment, User, utcnow
from provisioning.models.imports import Import, ImportRow
from provisioning.rules.references import Change
from provisioning.runtime import Runtime
from provisioning.store.enrollments import inserted_completed_at, unchanged_completed_at, updated_completed_at


def _mark(s: Session, imp: Import, condition, message, column: str | None, value) -> int:
    return mark_staged(s, imp.id, condition, message, column, value)


def _course_exists(tenant_id: int):
    return exists().where(Course.tenant_id == tenant_id, Course.external_id == ImportRow.course_ref)


def validate_enrollments(s: Session, imp: Import) -> None:
    """Unknown users (by email or by id) and unknown courses are row errors naming their column."""
    columns = (imp.summary or {}).get("columns") or {}
    gone = user_gone(imp.tenant_id)
    _mark(
        s,
        imp,
        and_(ImportRow.email.is_not(None), gone),
        N_("No user of this tenant has this email."),
        (imp.summary or {}).get("email_header"),
        ImportRow.email,
    )
    _mark(
        s,
        imp,
        and_(ImportRow.email.is_(None), gone),
        sql_sentence(N_("No user of this tenant has id %(id)s."), id=ImportRow.user_id),
        columns.get("user_id"),
        cast(ImportRow.user_id, String),
    )
    _mark(
        s,
        imp,
        ~_course_exists(imp.tenant_id),
        N_("No course of this tenant has this external id."),
        columns.get("course"),
        ImportRow.course_ref,
    )


def apply_enrollments_chunk(rt: Runtime, s: Session, imp: Import, chunk, ok: int, actor: Actor) -> dict[str, int]:
    """Upsert the chunk's enrollments in one statement; rows already saved with these values are skipped."""
    t = imp.tenant_id
    table = Enrollment.__table__
    course_of_row = and_(Course.tenant_id == t, Course.external_id == ImportRow.course_ref)
    course_id = select(Course.id).where(course_of_row).correlate(ImportRow).scalar_subquery()  # probe, not join
    same = (
        select(literal(1))
        .where(
            table.c.user_id == ImportRow.user_id,
            table.c.course_id == course_id,
            table.c.status == ImportRow.enrollment_status,
            or_(ImportRow.enrollment_role.is_(None), table.c.role == ImportRow.enrollment_role),
            unchanged_completed_at(table.c.completed_at, ImportRow.enrollment_status, ImportRow.completed_at),
        )
        .correlate(ImportRow)
        .scalar_subquery()
        .is_not(None)
    )
    skipped = mark_rows(s, and_(chunk, same), "skipped", N_("Unchanged: already enrolled with this role and status."))
    now = utcnow()
    before = trigger_events.completed_before(
        s,
        t,
        list(
            s.scalars(select(ImportRow.user_id).where(chunk, ImportRow.status == "ok", ImportRow.user_id.is_not(None)))
        ),
    )
    rows = (
        select(
            literal(t),
            Course.id,
            User.id,
            ImportRow.enrollment_role,
            ImportRow.enrollment_status,
            inserted_completed_at(ImportRow.enrollment_status, ImportRow.completed_at, now),
            literal(now, table.c.created_at.type),
            literal(now, table.c.updated_at.type),
        )
        .select_from(ImportRow)
        .join(User, and_(User.id == ImportRow.user_id, User.tenant_id == t))
        .join(Course, course_of_row)
        .where(chunk, ImportRow.status == "ok")
    )
    insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table).from_select(
        ["tenant_id", "course_id", "user_id", "role", "status", "completed_at", "created_at", "updated_at"], rows
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.course_id, table.c.user_id],
        set_={
            "role": func.coalesce(stmt.excluded.role, table.c.role),  # a blank role keeps the current one
            "status": stmt.excluded.status,
            "completed_at": updated_completed_at(stmt.excluded, now),
            "updated_at": now,
        },
    )
    saved = s.execute(stmt.returning(table.c.user_id, table.c.course_id, table.c.status)).all()
    errors = 0
    if len(saved) < ok - skipped:  # their user or course went away since the preview
        errors = mark_rows(s, and_(chunk, user_gone(t)), "error", N_("Not applied: the user no longer exists."))
        errors += mark_rows(
            s, and_(chunk, ~_course_exists(t)), "error", N_("Not applied: the course no longer exists.")
        )
    if saved:
        # Automatic notifications: new enrollments, and enrollments completed by this chunk (once each).
        saved_users = sorted({u for u, _, _ in saved})
        trigger_events.enrollments_created(s, rt, t, saved_users, now, operation_id=imp.operation_id)
        trigger_events.enrollments_completed(s, rt, t, saved_users, now, before, operation_id=imp.operation_id)
        external = dict(
            s.execute(
                select(Course.id, Course.external_id).where(Course.id.in_(sorted({c for _, c, _ in saved})))
            ).all()
        )
        record_events(
            s,
            imp,
            actor,
            "enrollment.saved",
            "user",
            [u for u, _, _ in saved],
            course=[external[c] for _, c, _ in saved],
            status=[st for _, _, st in saved],
        )
        reevaluate_rules(rt, s, t, sorted({u for u, _, _ in saved}), Change(enrollments=True))
    return {"applied": ok - skipped - errors, "skipped": skipped, "errors": errors}
