"""Listing users and groups the way a directory protocol reads them (SCIM, RFC 7644 §3.4.2):
a filter in the filter language, a sort key, a page by start index and count, and each row's
groups or members, all in SQL and scoped to the tenant.  Nothing is filtered in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from provisioning.errors import NotFound
from provisioning.filters.parser import InvalidFilter
from provisioning.filters.translate import Resource, compile_filter, sort_key
from provisioning.i18n import N_
from provisioning.models import Group, Membership, User
from provisioning.runtime import Runtime
from provisioning.store import groups as store_groups
from provisioning.store import users as store_users

MODELS: dict[Resource, Any] = {"User": User, "Group": Group}


class InvalidSortBy(ValueError):
    """sortBy names no attribute that can be sorted on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ListQuery:
    """Which rows of one resource type: the filter, the order, and the page (startIndex from 1)."""

    filter: str | None = None
    sort_by: str | None = None
    descending: bool = False
    start: int = 1
    count: int = 100


def _order(model, resource: Resource, query: ListQuery) -> list:
    key = model.id
    if query.sort_by:
        try:
            key = sort_key(query.sort_by, resource)
        except InvalidFilter as exc:
            raise InvalidSortBy(exc.message) from None
    keys = [key.desc() if query.descending else key.asc()]
    if key is not model.id:
        keys.append(model.id.desc() if query.descending else model.id.asc())  # a stable order for paging
    return keys


def _run(
    s: Session, model, resource: Resource, tenant_id: int, query: ListQuery, with_groups: bool = False
) -> tuple[int, Sequence[Any], dict[int, list[tuple[int, str]]] | None]:
    """(totalResults, the page's rows, their groups when ``with_groups``) for one resource type."""
    stmt = select(model).where(model.tenant_id == tenant_id)
    if query.filter:
        stmt = stmt.where(compile_filter(query.filter, resource, tenant_id))
    order = _order(model, resource, query)  # a bad sortBy is an error even when nothing matches
    if query.count == 0:
        return s.scalar(select(func.count()).select_from(stmt.subquery())) or 0, [], None
    # The page, the total and each user's group ids in one round trip: count(*) OVER () is
    # computed before OFFSET/LIMIT.
    found = s.execute(
        stmt.add_columns(func.count().over(), *([_group_ids(tenant_id)] if with_groups else []))
        .order_by(*order)
        .offset(query.start - 1)
        .limit(query.count)
    ).all()
    if found:
        rows = [row[0] for row in found]
        groups = _named_groups(s, tenant_id, {row[0].id: row[2] for row in found}) if with_groups else None
        return found[0][1], rows, groups
    if query.start == 1:
        return 0, [], None
    return s.scalar(select(func.count()).select_from(stmt.subquery())) or 0, [], None  # paged past the end


def _group_ids(tenant_id: int):
    """A user's group ids, comma-separated (string_agg / group_concat), as a column of the user's row."""
    return (
        select(func.aggregate_strings(cast(Membership.group_id, String), ","))
        .where(Membership.user_id == User.id, Membership.tenant_id == tenant_id)
        .correlate(User)
        .scalar_subquery()
    )


def _named_groups(s: Session, tenant_id: int, group_ids: dict[int, str | None]) -> dict[int, list[tuple[int, str]]]:
    """{user id: [(group id, name), ...] by group id}; the names in one query, only when some user has groups."""
    ids = {uid: sorted(int(g) for g in (text or "").split(",") if g) for uid, text in group_ids.items()}
    wanted = sorted({g for gids in ids.values() for g in gids})
    names = (
        dict(s.execute(select(Group.id, Group.name).where(Group.tenant_id == tenant_id, Group.id.in_(wanted))).all())
        if wanted
        else {}
    )
    return {uid: [(g, names[g]) for g in gids if g in names] for uid, gids in ids.items()}


def groups_of_users(s: Session, tenant_id: int, user_ids: Sequence[int]) -> dict[int, list[tuple[int, str]]]:
    """The groups each user belongs to (the read-only User.groups attribute)."""
    found: dict[int, list[tuple[int, str]]] = {uid: [] for uid in user_ids}
    if user_ids:
        rows = s.execute(
            select(Membership.user_id, Group.id, Group.name)
            .join(Group, Group.id == Membership.group_id)
            .where(Membership.tenant_id == tenant_id, Membership.user_id.in_(list(user_ids)))
            .order_by(Group.id)
        )
        for uid, gid, name in rows:
            found[uid].append((gid, name))
    return found


def members_of_groups(
    s: Session, tenant_id: int, group_ids: Sequence[int], at_most: int | None = None
) -> dict[int, list[int]]:
    """Member ids (only asked for when the response includes members).  With ``at_most``, a group
    with more members than that is left out of the answer, and its members are never loaded."""
    wanted = list(group_ids)
    if wanted and at_most is not None:
        counted = s.execute(
            select(Membership.group_id)
            .where(Membership.tenant_id == tenant_id, Membership.group_id.in_(wanted))
            .group_by(Membership.group_id)
            .having(func.count() > at_most)
        )
        too_large = set(counted.scalars())
        wanted = [gid for gid in wanted if gid not in too_large]
    found: dict[int, list[int]] = {gid: [] for gid in wanted}
    if wanted:
        rows = s.execute(
            select(Membership.group_id, Membership.user_id)
            .where(Membership.tenant_id == tenant_id, Membership.group_id.in_(wanted))
            .order_by(Membership.group_id, Membership.user_id)
        )
        for gid, uid in rows:
            found[gid].append(uid)
    return found


def load_user(
    rt: Runtime, tenant_id: int, user_id: int, with_groups: bool
) -> tuple[User, list[tuple[int, str]] | None]:
    """A user of the tenant, with their groups (id, name) when asked."""
    with rt.db.read() as s:
        if not with_groups:
            return store_users.load_user(s, tenant_id, user_id), None
        # The user and its group ids in one statement (names only when it has groups).
        row = s.execute(
            select(User, _group_ids(tenant_id)).where(User.id == user_id, User.tenant_id == tenant_id)
        ).first()
        if row is None:
            raise NotFound(N_("No user with id %(user_id)s."), user_id=user_id)
        return row[0], _named_groups(s, tenant_id, {row[0].id: row[1]})[row[0].id]


def user_groups(rt: Runtime, tenant_id: int, user_id: int) -> list[tuple[int, str]]:
    """The groups of one user (to render a user the caller already holds)."""
    with rt.db.read() as s:
        return groups_of_users(s, tenant_id, [user_id])[user_id]


def load_group(rt: Runtime, tenant_id: int, group_id: int, with_members: bool) -> tuple[Group, list | None]:
    """A group of the tenant, with its member ids when asked."""
    with rt.db.read() as s:
        group = store_groups.load_group(s, tenant_id, group_id)
        return group, (members_of_groups(s, tenant_id, [group.id])[group.id] if with_members else None)


def search(
    rt: Runtime,
    resource: Resource,
    tenant_id: int,
    query: ListQuery,
    with_related: bool,
    members_at_most: int | None = None,
) -> tuple[int, Sequence[Any], dict[int, Any] | None]:
    """(total, rows, related) where related maps ids to groups (users) or members (groups); a group
    with more than ``members_at_most`` members is absent from related (see :func:`members_of_groups`).

    Raises :class:`InvalidFilter` for the filter and :class:`InvalidSortBy` for sortBy, the
    filter first: a bad sortBy is an error even when nothing matches.
    """
    model = MODELS[resource]
    with rt.db.read() as s:
        total, rows, groups = _run(s, model, resource, tenant_id, query, with_groups=with_related and model is User)
        if with_related and rows and model is not User:
            return total, rows, members_of_groups(s, tenant_id, [r.id for r in rows], members_at_most)
        return total, rows, groups
