"""Reading SCIM resources: filtered, sorted, paged queries in SQL (RFC 7644 §3.4.2).

Filters are translated to SQL by :mod:`provisioning.filters.translate`; nothing is ever filtered in Python.
Every query is scoped to the caller's tenant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from provisioning.filters import translate as filters
from provisioning.models import Group, Membership, User
from scim.errors import InvalidFilterError, InvalidValueError, ScimError
from scim.projection import parse_list


@dataclass
class Query:
    filter: str | None = None
    sort_by: str | None = None
    descending: bool = False
    start: int = 1
    count: int = 100
    attributes: list = field(default_factory=list)
    excluded: list = field(default_factory=list)


def parse_query(params: dict[str, Any], max_count: int, int_param) -> Query:
    """Read filter, sortBy, sortOrder, startIndex, count, attributes and excludedAttributes."""
    flt = params.get("filter")
    if flt is not None and not isinstance(flt, str):
        raise InvalidFilterError("filter must be a string.")
    sort_by = params.get("sortBy")
    if sort_by is not None and not isinstance(sort_by, str):
        raise InvalidValueError("sortBy must be a string.")
    order = params.get("sortOrder") or "ascending"
    if not isinstance(order, str) or order.lower() not in ("ascending", "descending"):
        raise InvalidValueError(f"sortOrder must be ascending or descending, got {order!r}.")
    start = int_param(params, "startIndex")
    count = int_param(params, "count")
    # RFC 7644 §3.4.2.4: startIndex < 1 is 1; a negative count is 0; we cap count at our maximum.
    return Query(
        filter=flt.strip() or None if flt else None,
        sort_by=sort_by or None,
        descending=order.lower() == "descending",
        start=max(start or 1, 1),
        count=max_count if count is None else min(max(count, 0), max_count),
        attributes=parse_list(params.get("attributes")),
        excluded=parse_list(params.get("excludedAttributes")),
    )


def where_clause(flt: str | None, resource: str, tenant_id: int):
    if not flt:
        return None
    try:
        return filters.compile_filter(flt, resource, tenant_id)
    except filters.InvalidFilter as exc:
        where = f" (at position {exc.position})" if getattr(exc, "position", None) is not None else ""
        raise ScimError(
            f"{exc.message}{where}", status=400, scim_type=getattr(exc, "scim_type", None) or "invalidFilter"
        ) from None


def _order(model, resource: str, query: Query) -> list:
    key = model.id
    if query.sort_by:
        try:
            key = filters.sort_key(query.sort_by, resource)
        except filters.InvalidFilter as exc:
            raise InvalidValueError(f"sortBy: {exc.message}") from None
    keys = [key.desc() if query.descending else key.asc()]
    if key is not model.id:
        keys.append(model.id.desc() if query.descending else model.id.asc())  # a stable order for paging
    return keys


def run(
    s: Session, model, resource: str, tenant_id: int, query: Query, with_groups: bool = False
) -> tuple[int, Sequence[Any], dict[int, list[tuple[int, str]]] | None]:
    """(totalResults, the page's rows, their groups when ``with_groups``) for one resource type."""
    stmt = select(model).where(model.tenant_id == tenant_id)
    clause = where_clause(query.filter, resource, tenant_id)
    if clause is not None:
        stmt = stmt.where(clause)
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


def members_of_groups(s: Session, tenant_id: int, group_ids: Sequence[int]) -> dict[int, list[int]]:
    """Member ids (only asked for when the response includes members)."""
    found: dict[int, list[int]] = {gid: [] for gid in group_ids}
    if group_ids:
        rows = s.execute(
            select(Membership.group_id, Membership.user_id)
            .where(Membership.tenant_id == tenant_id, Membership.group_id.in_(list(group_ids)))
            .order_by(Membership.group_id, Membership.user_id)
        )
        for gid, uid in rows:
            found[gid].append(uid)
    return found


def load_user(rt, tenant_id: int, user_id: int, with_groups: bool) -> tuple[User, list[tuple[int, str]] | None]:
    from provisioning.errors import NotFound

    with rt.db.read() as s:
        if not with_groups:
            from provisioning.store.users import load_user as load

            return load(s, tenant_id, user_id), None
        # The user and its group ids in one statement (names only when it has groups).
        row = s.execute(
            select(User, _group_ids(tenant_id)).where(User.id == user_id, User.tenant_id == tenant_id)
        ).first()
        if row is None:
            raise NotFound(f"No user with id {user_id}.")
        return row[0], _named_groups(s, tenant_id, {row[0].id: row[1]})[row[0].id]


def user_groups(rt, tenant_id: int, user_id: int) -> list[tuple[int, str]]:
    """The groups of one user (to render a user the caller already holds)."""
    with rt.db.read() as s:
        return groups_of_users(s, tenant_id, [user_id])[user_id]


def load_group(rt, tenant_id: int, group_id: int, with_members: bool) -> tuple[Group, list | None]:
    from provisioning.store.groups import load_group as load

    with rt.db.read() as s:
        group = load(s, tenant_id, group_id)
        return group, (members_of_groups(s, tenant_id, [group.id])[group.id] if with_members else None)


def search(rt, model, resource: str, tenant_id: int, query: Query, with_related: bool):
    """(total, rows, related) where related maps ids to groups (users) or members (groups)."""
    with rt.db.read() as s:
        total, rows, related = run(s, model, resource, tenant_id, query, with_groups=with_related and model is User)
        if with_related and rows and model is not User:
            related = members_of_groups(s, tenant_id, [r.id for r in rows])
        return total, rows, related


def tenant_setting(rt, tenant_id: int, name: str) -> Any:
    from provisioning.models import Tenant

    with rt.db.read() as s:
        settings = s.scalar(select(Tenant.settings).where(Tenant.id == tenant_id)) or {}
    return settings.get(name)
