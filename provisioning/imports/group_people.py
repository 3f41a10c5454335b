"""Who joins, who leaves and who stays, per group of a member import's preview (the article's "down arrow").

The preview's group rows give counts; this lists the people behind them, a page at a time, read
from the staged rows and the memberships as they are now:

- ``joining``: listed for the group and not a member yet (everyone, for a group the import creates);
- ``staying``: listed and already a member;
- ``leaving``: replace mode only, members of the group the file does not list (for an automatic group,
  the always-included people it does not list: replace mode replaces that include list).

Each person carries what a "leave out" control needs to drop them from the import
(``exclude``: the group and email :func:`provisioning.imports.edits.update_import` takes), and the
row of the file they come from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from provisioning.errors import InvalidInput
from provisioning.i18n import N_
from provisioning.imports.formats import FORMATS
from provisioning.imports.preview import load_import
from provisioning.models import Group, Membership, User
from provisioning.models.imports import Import, ImportRow
from provisioning.runtime import Runtime

KINDS = ("joining", "staying", "leaving")
LISTED = ("ok", "applied", "skipped")


@dataclass
class PeopleList:
    """One kind of change for one group: how many, and the first of them."""

    count: int = 0
    people: list[dict[str, Any]] = field(default_factory=list)

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.people))


@dataclass
class GroupPeople:
    name: str
    group_id: int | None
    joining: PeopleList
    staying: PeopleList
    leaving: PeopleList


def group_people(
    rt: Runtime, tenant_id: int, import_id: int, groups: list[dict[str, Any]], *, limit: int = 50
) -> list[GroupPeople]:
    """The people of each of ``groups`` (the preview's group rows: ``name`` and ``id``), ``limit`` per list.

    Only membership formats have groups; any other import gives an empty list.
    """
    if limit < 1:
        raise InvalidInput(N_("limit must be at least 1."), details={"limit": [N_("At least 1.")]})
    with rt.db.read() as s:
        imp = load_import(s, tenant_id, import_id)
        if not FORMATS[imp.format].replaces_members:
            return []
        return [_one_group(s, imp, g.get("name") or "", g.get("id"), limit) for g in groups]


def _one_group(s: Session, imp: Import, name: str, gid: int | None, limit: int) -> GroupPeople:
    group = s.get(Group, gid) if gid is not None else None
    automatic = group is not None and group.kind == "automatic"
    key = _group_key(imp)
    listed = and_(ImportRow.import_id == imp.id, ImportRow.status.in_(LISTED), ImportRow.user_id.is_not(None))
    if imp.format != "members":
        listed = and_(listed, func.lower(key) == name.lower())
    is_member = (
        exists().where(Membership.group_id == gid, Membership.user_id == ImportRow.user_id) if gid is not None else None
    )
    joining = listed if is_member is None else and_(listed, ~is_member)
    staying = and_(listed, is_member) if is_member is not None else None
    return GroupPeople(
        name=name,
        group_id=gid,
        joining=_listed_people(s, imp, joining, key, limit),
        staying=_listed_people(s, imp, staying, key, limit) if staying is not None else PeopleList(),
        leaving=(
            _leaving_include_list(s, imp, group, listed, limit)
            if group is not None and automatic
            else _leaving(s, imp, gid, listed, limit)
            if imp.mode == "replace" and gid is not None
            else PeopleList()
        ),
    )


def _group_key(imp: Import) -> Any:
    """The group a staged row names, as the preview's edits match it (edits.update_import's exclude_members)."""
    return func.coalesce(ImportRow.group_name, imp.group_name or "")


def _listed_people(s: Session, imp: Import, condition: Any, key: Any, limit: int) -> PeopleList:
    count = s.scalar(select(func.count(func.distinct(ImportRow.user_id))).where(condition)) or 0
    if not count:
        return PeopleList()
    first_row = (
        select(ImportRow.user_id, func.min(ImportRow.row_no).label("row_no"), func.min(key).label("group"))
        .where(condition)
        .group_by(ImportRow.user_id)
        .subquery()
    )
    rows = s.execute(
        select(
            User.id,
            User.display_name,
            User.given_name,
            User.family_name,
            User.email,
            first_row.c.row_no,
            first_row.c.group,
        )
        .join(first_row, first_row.c.user_id == User.id)
        .where(User.tenant_id == imp.tenant_id)
        .order_by(first_row.c.row_no, User.id)
        .limit(limit)
    ).all()
    people = [
        {**_person(uid, display, given, family, email), "row": row_no, "exclude": {"group": group, "email": email}}
        for uid, display, given, family, email, row_no, group in rows
    ]
    return PeopleList(count, people)


def _leaving(s: Session, imp: Import, gid: int, listed: Any, limit: int) -> PeopleList:
    not_listed = and_(
        Membership.group_id == gid,
        ~exists().where(listed, ImportRow.user_id == Membership.user_id),
    )
    count = s.scalar(select(func.count()).select_from(Membership).where(not_listed)) or 0
    if not count:
        return PeopleList()
    rows = s.execute(
        select(User.id, User.display_name, User.given_name, User.family_name, User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(not_listed)
        .order_by(func.lower(User.email), User.id)
        .limit(limit)
    ).all()
    return PeopleList(count, [_person(*r) for r in rows])


def _leaving_include_list(s: Session, imp: Import, group: Group, listed: Any, limit: int) -> PeopleList:
    """An automatic group in replace mode: the always-included people the file does not list leave that list
    (they stay members if the rule matches them)."""
    if imp.mode != "replace":
        return PeopleList()
    included = [int(i) for i in (group.settings or {}).get("always_include") or []]
    if not included:
        return PeopleList()
    listed_ids = set(s.scalars(select(ImportRow.user_id).where(listed).distinct()))
    gone = sorted(set(included) - listed_ids)
    if not gone:
        return PeopleList()
    rows = s.execute(
        select(User.id, User.display_name, User.given_name, User.family_name, User.email)
        .where(User.tenant_id == imp.tenant_id, User.id.in_(gone[: limit * 2]))
        .order_by(func.lower(User.email), User.id)
        .limit(limit)
    ).all()
    return PeopleList(len(gone), [_person(*r) for r in rows])


def _person(uid: int, display: str | None, given: str | None, family: str | None, email: str | None) -> dict[str, Any]:
    name = display or " ".join(p for p in (given, family) if p) or email or ""
    return {"user_id": uid, "name": name, "email": email}
