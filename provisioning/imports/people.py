"""Who an import names, a page at a time: the preview's list of new and existing people (bulk add).

"new": rows whose email names no user of the tenant (the commit creates them as invited and
invites them); "existing": rows naming a user (updated and added to the group).  Rows in error
are listed by ``GET /imports/{id}/errors``.  Read straight from the staged rows, in file order.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, literal, select
from sqlalchemy.orm import Session

from provisioning.errors import InvalidInput
from provisioning.i18n import N_, Message
from provisioning.imports.preview import load_import
from provisioning.models import Membership, User
from provisioning.models.imports import ImportRow
from provisioning.pagination import Page, paginate
from provisioning.runtime import Runtime

KINDS = ("all", "new", "existing")
LIVE = ("ok", "applied", "skipped")


def list_people(
    rt: Runtime, tenant_id: int, import_id: int, *, kind: str = "all", page: int = 1, per_page: int = 50
) -> Page[Any]:
    """A page of the people an import names (not the rows in error), with whether each is new."""
    if kind not in KINDS:
        raise InvalidInput(
            N_("Unknown kind %(kind)r."),
            details={"kind": [Message(N_("Must be one of %(choices)s."), choices=", ".join(KINDS))]},
            kind=kind,
        )
    with rt.db.read() as s:
        imp = load_import(s, tenant_id, import_id)
        stmt = _people(s, imp, kind)
        return paginate(s, stmt, page, per_page, scalars=False)


def _people(s: Session, imp: Any, kind: str):
    member = (
        select(Membership.user_id)
        .where(Membership.group_id == imp.group_id, Membership.user_id == ImportRow.user_id)
        .exists()
        if imp.group_id
        else None
    )
    stmt = (
        select(
            ImportRow,
            User.username.label("current_username"),
            User.status.label("user_status"),
            (member if member is not None else literal(False)).label("member"),
        )
        .outerjoin(User, and_(User.id == ImportRow.user_id, User.tenant_id == imp.tenant_id))
        .where(ImportRow.import_id == imp.id, ImportRow.status.in_(LIVE))
        .order_by(ImportRow.row_no, ImportRow.id)
    )
    if kind == "new":
        stmt = stmt.where(ImportRow.user_id.is_(None))
    elif kind == "existing":
        stmt = stmt.where(ImportRow.user_id.is_not(None))
    return stmt


def person_item(row: Any) -> dict[str, Any]:
    """One listed person as plain data."""
    staged, username, status, member = row
    return {
        "row": staged.row_no,
        "email": staged.value or staged.email,
        "username": staged.username or username,
        "first_name": staged.given_name,
        "last_name": staged.family_name,
        "language": staged.language,
        "department": staged.department,
        "user_id": staged.user_id,
        "new": staged.user_id is None,
        "user_status": status,
        "already_member": bool(member),
    }
