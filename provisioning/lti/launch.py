"""What an LTI launch does to our data: the login's nonce, the user, the course, the enrollment.

A launch links the platform user (issuer, sub) to a tenant user — matched by email, created
just in time otherwise — records the context as a Course with an Enrollment in the LTI role,
and starts a roster sync when the course's roster is older than the tenant's setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from provisioning.activity import Actor, record
from provisioning.db import affected, insert_ignoring_conflicts
from provisioning.errors import Forbidden, NotFound
from provisioning.i18n import N_, language_tag
from provisioning.identity_keys import identity_key
from provisioning.lti.people import person_values
from provisioning.lti.registrations import REVOKED, lti_settings
from provisioning.lti.roster import start_roster_sync_if_stale
from provisioning.mail import trigger_events
from provisioning.models import (
    Course,
    CourseGroup,
    Enrollment,
    Group,
    LtiContext,
    LtiNonce,
    LtiRegistration,
    LtiUserLink,
    Tenant,
    User,
    utcnow,
)
from provisioning.roles import launch_roles, platform_roles
from provisioning.rules.definition import reevaluate_users
from provisioning.runtime import Runtime
from provisioning.services.invitations import accept_invitation
from provisioning.services.notifications import deliver_pending
from provisioning.store.users import add_user, find_users_by_email

LOGIN_TTL = timedelta(minutes=10)
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"


@dataclass(frozen=True)
class LaunchResult:
    tenant_id: int
    user_id: int
    role: str  # admin | manager | learner: what the launch lets the user do here
    lti_role: str  # the course role its context roles give (Instructor, Learner ...); "" without one
    course_id: int | None
    lti_context_id: int | None
    roster_operation_id: int | None
    locale: str | None = None  # the launch's locale claim, a well-formed BCP 47 tag; None without one
    language: str | None = None  # the user's own language setting (it comes before the launch's locale)
    # The launch's system and institution roles: the tenant's lti_role_map gives the session a tenant role by them.
    platform_roles: tuple[str, ...] = ()


def launch_locale(claims: dict[str, Any]) -> str | None:
    """The ``locale`` of the launch_presentation claim (LTI 1.3 §5.4.4: "the language, country, and
    variant as represented using the IETF Best Practices for Tags for Identifying Languages
    (BCP-47)"), or None when it is absent or not a well-formed tag (a platform's value is not trusted
    to be one; the page then falls back to the tenant's language)."""
    presentation = claims.get(CLAIM + "launch_presentation")
    return language_tag(presentation.get("locale")) if isinstance(presentation, dict) else None


# --- the login's state and nonce --------------------------------------------------------------


def begin_login(rt: Runtime, registration_id: int, state: str, nonce: str, login_params: dict[str, str]) -> None:
    """Remember a login we started, so its launch can prove it answers it (once)."""
    now = utcnow()
    with rt.db.transaction() as s:
        reg = s.get_one(LtiRegistration, registration_id)
        s.add(
            LtiNonce(
                tenant_id=reg.tenant_id,
                registration_id=registration_id,
                state=state,
                nonce=nonce,
                login_params=login_params,
                created_at=now,
                expires_at=now + LOGIN_TTL,
            )
        )
        # Old logins are of no use; clear a few at a time so the table stays small.
        expired = select(LtiNonce.id).where(LtiNonce.expires_at < now - LOGIN_TTL).limit(500)
        s.execute(LtiNonce.__table__.delete().where(LtiNonce.id.in_(expired.scalar_subquery())))


@dataclass(frozen=True)
class PendingLogin:
    """A login we started and whose launch has not arrived yet."""

    params: dict[str, str]  # what the platform sent to /lti/login
    nonce: str
    auth_login_url: str  # the platform's OIDC authorization endpoint


def pending_login(rt: Runtime, state: str) -> PendingLogin | None:
    """The unused, unexpired login with this state."""
    with rt.db.read() as s:
        found = s.execute(
            select(LtiNonce, LtiRegistration.auth_login_url)
            .join(LtiRegistration, LtiRegistration.id == LtiNonce.registration_id)
            .where(LtiNonce.state == state)
        ).first()
    if found is None:
        return None
    row, auth_login_url = found
    if row.used_at is not None or row.expires_at < utcnow():
        return None
    return PendingLogin(params=dict(row.login_params or {}), nonce=row.nonce, auth_login_url=auth_login_url)


def consume_nonce(rt: Runtime, registration_id: int | None, state: str | None, nonce: Any) -> str:
    """Use a login's nonce once: "ok", "replayed", "expired" or "unknown".

    The conditional UPDATE is atomic, so two concurrent posts of one id_token can't both pass.
    """
    if not isinstance(nonce, str) or not state or registration_id is None:
        return "unknown"
    now = utcnow()
    with rt.db.transaction() as s:
        used = affected(
            s.execute(
                update(LtiNonce)
                .where(
                    LtiNonce.state == state,
                    LtiNonce.nonce == nonce,
                    LtiNonce.registration_id == registration_id,
                    LtiNonce.used_at.is_(None),
                    LtiNonce.expires_at >= now,
                )
                .values(used_at=now)
            )
        )
        if used == 1:
            return "ok"
        row = s.scalar(select(LtiNonce).where(LtiNonce.nonce == nonce))
    if row is None or row.state != state or row.registration_id != registration_id:
        return "unknown"
    return "replayed" if row.used_at is not None else "expired"


# --- users ---------------------------------------------------------------------------------


def link_user(s: Session, tenant_id: int, issuer: str, sub: str, claims: dict[str, Any], actor: Actor) -> User:
    """The tenant user of (issuer, sub): linked before, matched by email, or created just in time."""
    linked = s.scalar(
        select(User)
        .join(LtiUserLink, LtiUserLink.user_id == User.id)
        .where(LtiUserLink.tenant_id == tenant_id, LtiUserLink.issuer == issuer, LtiUserLink.sub == sub)
    )
    if linked is not None:
        return linked
    values = person_values(claims, issuer, sub)
    user_id = None
    if values["email"]:
        user_id = find_users_by_email(s, tenant_id, [values["email"]]).get(identity_key(values["email"]))
    if user_id is None:
        user_id = add_user(s, tenant_id, values, actor).id
    s.execute(
        insert_ignoring_conflicts(s, LtiUserLink.__table__),
        [dict(tenant_id=tenant_id, issuer=issuer, sub=sub, user_id=user_id, created_at=utcnow())],
    )
    return s.get_one(User, user_id)


# --- the launch ----------------------------------------------------------------------------


def complete_launch(rt: Runtime, registration_id: int, claims: dict[str, Any]) -> LaunchResult:
    """Apply a validated launch: user, last login, course, enrollment; maybe start a roster sync."""
    actor = Actor(name="lti", channel="lti")
    with rt.db.transaction() as s:
        reg, tenant = s.execute(
            select(LtiRegistration, Tenant)
            .join(Tenant, Tenant.id == LtiRegistration.tenant_id)
            .where(LtiRegistration.id == registration_id)
        ).one()
        if reg.revoked_at is not None:  # read here, past the registration caches: revocation is immediate
            raise Forbidden(REVOKED)
        sub = claims.get("sub")
        if not sub or not isinstance(sub, str):
            raise Forbidden(N_("This launch is anonymous (no user id), and the service needs to know who you are."))
        before = utcnow()
        user = link_user(s, tenant.id, reg.issuer, sub, claims, actor)
        if user.created_at >= before:  # created just in time: they take a seat
            trigger_events.seats_assigned(s, rt, tenant.id, [user.id])
        if user.status == "deactivated":
            raise Forbidden(N_("Your account in this service is deactivated. Ask your administrator."))
        if user.status == "invited":  # an invited user arrives: they join, and get what was kept for them
            user.status, user.active = "active", True
            accept_invitation(s, tenant.id, user.id)
        user.last_login_at = utcnow()
        deliver_pending(s, rt, user)
        settings = lti_settings(tenant)
        roles = launch_roles(claims.get(CLAIM + "roles"), settings.admin_roles)
        role, lti_role = roles.tenant_role, roles.course_role or ""
        course_id = context_row_id = operation_id = None
        context = claims.get(CLAIM + "context") or {}
        if isinstance(context, dict) and context.get("id"):
            course = ensure_course(s, tenant.id, str(context["id"]), context.get("title") or context.get("label"))
            course_id = course.id
            if roles.course_role:  # a tenant admin without a context role is not enrolled by the launch
                stamp = enroll(s, tenant.id, course.id, user.id, roles.course_role)
                trigger_events.enrollments_created(s, rt, tenant.id, [user.id], stamp, course_id=course.id)
            nrps = claims.get(NRPS_CLAIM) or {}
            row = ensure_context(s, reg, str(context["id"]), course.id, nrps.get("context_memberships_url"))
            context_row_id = row.id
            max_age = timedelta(minutes=settings.roster_sync_max_age_minutes)
            operation_id = start_roster_sync_if_stale(s, rt, row, max_age, actor, launched_by=user.id)
        # The launch may change what rules test (status, enrollment): follow it at once.
        s.flush()
        reevaluate_users(s, tenant.id, [user.id])
        record(
            s,
            tenant.id,
            actor,
            "lti.launch",
            "user",
            user.id,
            {"issuer": reg.issuer, "role": lti_role, "course_id": course_id},
        )
        return LaunchResult(
            tenant_id=tenant.id,
            user_id=user.id,
            role=role,
            lti_role=lti_role,
            course_id=course_id,
            lti_context_id=context_row_id,
            roster_operation_id=operation_id,
            locale=launch_locale(claims),
            language=user.language,
            platform_roles=platform_roles(claims.get(CLAIM + "roles")),
        )


def _select_or_insert(s: Session, model, where, values: dict[str, Any]):
    """The row matching ``where``, inserted first if missing (a concurrent insert is tolerated).

    A launch usually finds its course, enrollment and context already there: one SELECT.
    """
    found = s.scalar(select(model).where(*where))
    if found is None:
        s.execute(insert_ignoring_conflicts(s, model.__table__), [values])
        found = s.scalar(select(model).where(*where))
    return found


def ensure_course(s: Session, tenant_id: int, external_id: str, title: str | None) -> Course:
    external_id, title = external_id[:320], (title or None) and title[:400]
    course = _select_or_insert(
        s,
        Course,
        (Course.tenant_id == tenant_id, Course.external_id == external_id),
        dict(tenant_id=tenant_id, external_id=external_id, title=title, created_at=utcnow(), updated_at=utcnow()),
    )
    if title and course.title != title:
        course.title = title
    return course


def enroll(s: Session, tenant_id: int, course_id: int, user_id: int, lti_role: str) -> datetime:
    """Enroll the user in the course in ``lti_role`` (again, if dropped); returns the time a new enrollment has."""
    now = utcnow()
    row = _select_or_insert(
        s,
        Enrollment,
        (Enrollment.course_id == course_id, Enrollment.user_id == user_id),
        dict(
            tenant_id=tenant_id,
            course_id=course_id,
            user_id=user_id,
            role=lti_role,
            status="enrolled",
            created_at=now,
            updated_at=now,
        ),
    )
    if row.role != lti_role:
        row.role = lti_role
    if row.status == "dropped":  # launching from the course means they are in it again
        row.status = "enrolled"
    return now


def ensure_context(
    s: Session, reg: LtiRegistration, context_id: str, course_id: int, memberships_url: str | None
) -> LtiContext:
    context_id = context_id[:320]
    row = _select_or_insert(
        s,
        LtiContext,
        (LtiContext.registration_id == reg.id, LtiContext.context_id == context_id),
        dict(
            tenant_id=reg.tenant_id,
            registration_id=reg.id,
            context_id=context_id,
            course_id=course_id,
            created_at=utcnow(),
        ),
    )
    if memberships_url and row.memberships_url != memberships_url[:2000]:
        row.memberships_url = memberships_url[:2000]
    return row


def add_course_group(rt: Runtime, tenant_id: int, course_id: int, group_id: int) -> None:
    """Make a group one of a course's groups, managed by the course's instructors."""
    with rt.db.transaction() as s:
        course, group = s.get(Course, course_id), s.get(Group, group_id)
        if course is None or course.tenant_id != tenant_id:
            raise NotFound(N_("No course with id %(course_id)s."), course_id=course_id)
        if group is None or group.tenant_id != tenant_id:
            raise NotFound(N_("No group with id %(group_id)s."), group_id=group_id)
        s.execute(
            insert_ignoring_conflicts(s, CourseGroup.__table__),
            [dict(course_id=course_id, group_id=group_id, tenant_id=tenant_id)],
        )
