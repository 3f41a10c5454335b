"""What the UI's pickers find: groups and managers by name, among those a principal may choose.

A tenant may have thousands of groups, so no picker lists them all: the UI asks for a few suggestions
as the person types (:func:`find_groups`) and resolves a typed name on submit (:func:`resolve_group`).
Both look only at the tenant's groups within the principal's scope (``permissions.group_scope``) and,
for a picker that changes members, at hand-edited groups only. Managers (Share) likewise: active
people who may manage groups, for an admin.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, case, exists, false, func, or_, select

from provisioning import permissions
from provisioning.models import Course, CourseGroup, Enrollment, Group, User
from provisioning.permissions import Principal
from provisioning.roles import COURSE_MANAGER_ROLES
from provisioning.runtime import Runtime
from provisioning.sql import ci_like

SUGGESTIONS = 10  # suggestions per search
NEAR = 5  # near names a refused name is told about
# What a picker offers: "manual" hand-edited groups (their members can be changed by hand), "any" group.
KINDS = ("manual", "any")


@dataclass(frozen=True)
class GroupChoice:
    """A group as a suggestion shows it: its name, kind and the titles of its courses."""

    id: int
    name: str
    kind: str
    courses: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resolved:
    """A typed name resolved: the id when exactly one choosable group has that name, else None and
    up to NEAR names of the choosable groups that contain what was typed."""

    id: int | None
    near: tuple[str, ...] = ()


def _groups(principal: Principal, kinds: str, exclude: Iterable[int]) -> Select:
    stmt = select(Group.id, Group.name, Group.kind).where(Group.tenant_id == principal.tenant_id)
    if kinds == "manual":
        stmt = stmt.where(Group.kind == "manual")
    if (scope := permissions.group_scope(principal)) is not None:
        stmt = stmt.where(Group.id.in_(scope))
    if left_out := sorted(set(exclude)):
        stmt = stmt.where(Group.id.not_in(left_out))
    return stmt


def find_groups(
    rt: Runtime,
    principal: Principal,
    q: str,
    *,
    kinds: str = "any",
    exclude: Iterable[int] = (),
    limit: int = SUGGESTIONS,
) -> list[GroupChoice]:
    """Up to ``limit`` choosable groups whose name contains ``q`` (any case), those starting with it first,
    then by name; with their courses' titles. An empty ``q`` gives the first by name."""
    q = q.strip()
    stmt = _groups(principal, kinds, exclude)
    if q:
        stmt = stmt.where(ci_like(Group.name, "co", q)).order_by(
            case((ci_like(Group.name, "sw", q), 0), else_=1), func.lower(Group.name)
        )
    else:
        stmt = stmt.order_by(func.lower(Group.name))
    with rt.db.read() as s:
        rows = s.execute(stmt.limit(max(1, min(limit, 50)))).all()
        courses: dict[int, list[str]] = {}
        if rows:
            for gid, title, external_id in s.execute(
                select(CourseGroup.group_id, Course.title, Course.external_id)
                .join(Course, Course.id == CourseGroup.course_id)
                .where(Course.tenant_id == principal.tenant_id, CourseGroup.group_id.in_([r.id for r in rows]))
                .order_by(Course.title, Course.id)
            ):
                courses.setdefault(gid, []).append(title or external_id)
    return [GroupChoice(r.id, r.name, r.kind, tuple(courses.get(r.id, ()))) for r in rows]


def resolve_group(
    rt: Runtime, principal: Principal, typed: str, *, kinds: str = "any", exclude: Iterable[int] = ()
) -> Resolved:
    """The choosable group named ``typed`` (names are unique per tenant, in any case), or the near names."""
    name = typed.strip()
    stmt = _groups(principal, kinds, exclude)
    with rt.db.read() as s:
        found = s.scalar(stmt.with_only_columns(Group.id).where(func.lower(Group.name) == name.lower()))
        if found is not None:
            return Resolved(found)
        near = s.scalars(
            stmt.with_only_columns(Group.name).where(ci_like(Group.name, "co", name)).order_by(func.lower(Group.name))
        )
        return Resolved(None, tuple(near.fetchmany(NEAR)) if name else ())


def group_name(rt: Runtime, principal: Principal, group_id: int) -> str | None:
    """The name of a group the principal may see, for showing a chosen filter; None otherwise."""
    return permissions.names_in_scope(rt, principal, set(), {group_id}).groups.get(group_id)


# --- managers (Share: an admin gives people to a manager) ------------------------------------------


def _name(display: str | None, given: str | None, family: str | None, username: str) -> str:
    return display or " ".join(p for p in (given, family) if p) or username


def _managers(principal: Principal) -> Select:
    """Active people who may manage groups: managers, admins and course instructors (admins only choose)."""
    t = principal.tenant_id
    teaching = exists().where(
        Enrollment.tenant_id == t,
        Enrollment.user_id == User.id,
        Enrollment.role.in_(sorted(COURSE_MANAGER_ROLES)),
        Enrollment.status != "dropped",
    )
    stmt = select(User.id, User.display_name, User.given_name, User.family_name, User.username, User.email).where(
        User.tenant_id == t, User.status != "deactivated", or_(User.role.in_(("manager", "admin")), teaching)
    )
    return stmt if principal.role == "admin" else stmt.where(false())


def manager_label(name: str, email: str | None) -> str:
    return f"{name} ({email})" if email else name


def find_managers(rt: Runtime, principal: Principal, q: str, *, limit: int = SUGGESTIONS) -> list[tuple[int, str]]:
    """Up to ``limit`` people an admin may share others with, whose name, username or email contains ``q``:
    (id, "Name (email)"), by name."""
    q = q.strip()
    stmt = _managers(principal)
    if q:
        stmt = stmt.where(
            or_(
                *(
                    ci_like(c, "co", q)
                    for c in (User.display_name, User.given_name, User.family_name, User.username, User.email)
                )
            )
        )
    order = func.lower(func.coalesce(User.display_name, User.given_name, User.username))
    with rt.db.read() as s:
        rows = s.execute(stmt.order_by(order, User.id).limit(max(1, min(limit, 50))))
        return [(uid, manager_label(_name(d, g, f, u), e)) for uid, d, g, f, u, e in rows]


def any_managers(rt: Runtime, principal: Principal) -> bool:
    """Whether anyone can be chosen for Share at all."""
    with rt.db.read() as s:
        return s.scalar(_managers(principal).with_only_columns(User.id).limit(1)) is not None


def resolve_manager(rt: Runtime, principal: Principal, typed: str) -> Resolved:
    """The manager whose email or username is ``typed`` (any case), or whose label ("Name (email)") or
    name is exactly it when only one has it; else the near labels."""
    text = typed.strip()
    low = text.lower()
    shown = re.fullmatch(r".*\(([^()\s]+@[^()\s]+)\)", text)  # "Name (email)", as a suggestion shows it
    with rt.db.read() as s:
        rows = s.execute(
            _managers(principal)
            .where(
                or_(
                    func.lower(User.email) == (shown.group(1).lower() if shown else low),
                    func.lower(User.email) == low,
                    func.lower(User.username) == low,
                    *(
                        ci_like(c, "co", text)
                        for c in (User.display_name, User.given_name, User.family_name, User.email)
                    ),
                )
            )
            .limit(200)
        ).all()
    labelled = [(uid, _name(d, g, f, u), u, e) for uid, d, g, f, u, e in rows]
    for test in (
        lambda n, u, e: (e or "").lower() == low or u.lower() == low,
        lambda n, u, e: manager_label(n, e).lower() == low,
        lambda n, u, e: n.lower() == low,
    ):
        hits = [uid for uid, n, u, e in labelled if test(n, u, e)]
        if len(hits) == 1:
            return Resolved(hits[0])
        if hits:
            break
    near = sorted((manager_label(n, e) for _, n, _, e in labelled), key=str.lower)
    return Resolved(None, tuple(near[:NEAR]) if text else ())
