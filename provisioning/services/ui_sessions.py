"""UI sessions: begun by an LTI launch or a sign-in link, checked on every request, ended early.

The launch token the UI works from is signed (signed_tokens) and names a ``ui_sessions`` row
(claim ``s``).  Every request reads that row joined to the user by primary keys (one indexed
query): a session is live while it is not ended, its user exists and is not deactivated, and the
user has the role the session began with (OWASP Session Management Cheat Sheet, "Session
Expiration" and "Manual Session Expiration": the server invalidates a session; a token alone is
not enough).  Sign-out ends it; deactivation, deletion and role changes end the user's sessions
in the same unit of work (store.ui_sessions), through every channel.  No Flask here.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update

from provisioning import signed_tokens as tokens
from provisioning.errors import NotFound
from provisioning.i18n import N_
from provisioning.models import Tenant, UiSession, User, utcnow
from provisioning.runtime import Runtime

OWNER_USER_ID = 0  # the tenant's owner is not a user row; the principal is an admin of the tenant


@dataclass(frozen=True)
class SessionPerson:
    """Who a session is, in words for a page that names it."""

    tenant_name: str
    name: str


def start_session(
    rt: Runtime,
    tenant_id: int,
    user_id: int,
    role: str,
    lti_role: str,
    course_id: int | None,
    locale: str | None = None,
    platform_roles: tuple[str, ...] = (),
) -> str:
    """Begin a session and return its launch token; ``locale`` is the LTI launch's locale claim, which
    the token carries for the pages' language (a person's own language setting comes first);
    ``platform_roles`` the launch's system and institution roles, for the tenant's ``lti_role_map``."""
    now = utcnow()
    sid = secrets.token_urlsafe(18)
    with rt.db.transaction() as s:
        user_role = None
        if user_id != OWNER_USER_ID:
            user_role = s.scalar(select(User.role).where(User.tenant_id == tenant_id, User.id == user_id))
            if user_role is None:
                raise NotFound(N_("No user with id %(user_id)s."), user_id=user_id)
        # The tenant's sessions whose tokens have expired are of no use any more.
        s.execute(delete(UiSession).where(UiSession.tenant_id == tenant_id, UiSession.expires_at < now))
        s.add(
            UiSession(
                id=sid,
                tenant_id=tenant_id,
                user_id=None if user_id == OWNER_USER_ID else user_id,
                user_role=user_role,
                created_at=now,
                expires_at=now + timedelta(seconds=rt.settings.lti_launch_token_seconds),
            )
        )
    claims = {"t": tenant_id, "u": user_id, "r": role, "lr": lti_role, "c": course_id, "s": sid}
    if locale:
        claims["lo"] = locale
    if platform_roles:
        claims["pr"] = list(platform_roles)
    return tokens.issue_launch_token(rt.settings.secret_key, claims)


def session_problem(rt: Runtime, tenant_id: int, user_id: int, session_id: str | None) -> str | None:
    """None while the session is live; else why not: "ended", or a SESSION_END_REASONS value.

    A session found ended by the person's state (a channel that did not end it) is ended now,
    so restoring that state later does not revive it.
    """
    if not session_id:
        return "ended"  # a token from before sessions were kept, or forged without one
    with rt.db.read() as s:
        row = s.execute(
            select(
                UiSession.user_id,
                UiSession.user_role,
                UiSession.ended_reason,
                UiSession.ended_at,
                User.status,
                User.role,
            )
            .outerjoin(User, (User.id == UiSession.user_id) & (User.tenant_id == UiSession.tenant_id))
            .where(UiSession.id == session_id, UiSession.tenant_id == tenant_id)
        ).first()
    if row is None or (row[0] if row[0] is not None else OWNER_USER_ID) != user_id:
        return "ended"
    session_user, user_role, ended_reason, ended_at, status, role = row
    if ended_at is not None:
        return ended_reason or "ended"
    if session_user is None:
        return None  # the owner
    reason = "deleted" if status is None else "deactivated" if status == "deactivated" else None
    if reason is None and role != user_role:
        reason = "role_changed"
    if reason is not None:
        end_session(rt, tenant_id, session_id, reason)
    return reason


def end_session(rt: Runtime, tenant_id: int, session_id: str | None, reason: str = "signed_out") -> None:
    """End one session (sign-out); its token is refused from now on, even if replayed."""
    if not session_id:
        return
    with rt.db.transaction() as s:
        s.execute(
            update(UiSession)
            .where(UiSession.id == session_id, UiSession.tenant_id == tenant_id, UiSession.ended_at.is_(None))
            .values(ended_at=utcnow(), ended_reason=reason)
        )


def describe_person(rt: Runtime, tenant_id: int, user_id: int) -> SessionPerson:
    """The tenant's name and the person's name (or email) for a page naming a session."""
    with rt.db.read() as s:
        tenant_name = s.scalar(select(Tenant.name).where(Tenant.id == tenant_id)) or f"tenant {tenant_id}"
        if user_id == OWNER_USER_ID:
            return SessionPerson(tenant_name, "the owner")
        user = s.scalar(select(User).where(User.tenant_id == tenant_id, User.id == user_id))
    if user is None:
        return SessionPerson(tenant_name, f"user {user_id}")
    name = user.display_name or " ".join(p for p in (user.given_name, user.family_name) if p) or user.username
    return SessionPerson(tenant_name, f"{name} <{user.email}>" if user.email and user.email != name else name)
