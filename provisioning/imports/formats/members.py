"""The members format: a member list (email_address, first_name, last_name) into one group given beside the file."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, exists, func, literal, select
from sqlalchemy.orm import Session

from provisioning.activity import Actor
from provisioning.errors import Conflict, InvalidInput
from provisioning.i18n import N_, Message
from provisioning.imports.formats.base import NamedGroup
from provisioning.imports.formats.columns import EMAIL, EXPORT_ONLY, FIRST_NAME, LAST_NAME, Layout, norm, person_column
from provisioning.imports.formats.entries import Entry, email_of, names_of
from provisioning.imports.formats.group_target import (
    check_target,
    include_chunk,
    is_automatic,
    load_target,
    note_automatic,
    reads_as_users_file,
    replace_includes,
)
from provisioning.imports.formats.memberships import MembershipFormat
from provisioning.imports.marks import mark_rows
from provisioning.models import Group, Membership
from provisioning.models.imports import Import, ImportRow
from provisioning.runtime import Runtime
from provisioning.store.groups import add_group


class MembersFormat(MembershipFormat):
    name = "members"
    example_header = ("email_address", "first_name", "last_name")
    example_rows = (("ada@example.com", "Ada", "Lovelace"), ("alan@example.com", "Alan", "Turing"))
    detect_priority = 3
    takes_group_target = True

    def detects(self, keys: list[str], *, has_group_target: bool) -> bool:
        if has_group_target:
            # A users file (its username, language, department... columns) goes into the group as a users
            # import: bulk add, which creates the new people (group_target).  Anything else is a member list.
            return not reads_as_users_file(keys)
        members_only = EMAIL | FIRST_NAME | LAST_NAME | EXPORT_ONLY
        return any(k in EMAIL for k in keys) and set(keys) <= members_only and "username" not in keys

    def layout(self, header: list[str], mapping: dict[str, Any], custom: frozenset[str]) -> Layout:
        layout = Layout("members", len(header), header)
        for i, h in enumerate(header):
            key = norm(h)
            if person_column(layout, key, i):
                continue
            if key and key not in EXPORT_ONLY:
                layout.warnings.append(
                    Message(N_("Column %(column)r is not part of a member list and was ignored."), column=h)
                )
        if layout.email_col is None:
            raise self.file_error(N_('The header has no email_address column (also accepted: email, "Email").'))
        return layout

    def entries(self, layout: Layout, row_no: int, cells: list[str]) -> list[Entry]:
        assert layout.email_col is not None
        email, err = email_of(layout, row_no, cells[layout.email_col], layout.email_col)
        if err:
            return [err]
        return [{"row_no": row_no, "status": "ok", "email": email, **names_of(layout, cells)}]

    def target_group(
        self, s: Session, tenant_id: int, imp: Import, *, group_id: int | None, group_name: str | None
    ) -> None:
        if group_id:
            # An automatic group takes the file's people as always-included members (group_target).
            imp.group_id = load_target(s, tenant_id, group_id).id
        elif group_name:
            name = group_name.strip()
            if s.scalar(select(Group.id).where(Group.tenant_id == tenant_id, func.lower(Group.name) == name.lower())):
                raise Conflict(
                    N_("A group named %(name)r already exists; import into it with its group_id."),
                    field="group_name",
                    name=name,
                )
            imp.group_name = name
        else:
            raise InvalidInput(
                N_("A member list goes into a group: give group_id (an existing group) or group_name (a new one)."),
                details={"group_id": [N_("Required for the members format (or group_name).")]},
            )

    # --- preview -------------------------------------------------------------------------------

    def summary_groups(self, imp: Import) -> tuple[ColumnElement[bool], Any]:
        group_match = Group.id == imp.group_id if imp.group_id else Group.id.is_(None)
        return group_match, func.coalesce(ImportRow.group_name, imp.group_name or "")

    def summarize(self, s: Session, imp: Import, summary: dict[str, Any], *, groups: bool) -> None:
        super().summarize(s, imp, summary, groups=groups)
        group = s.get(Group, imp.group_id) if imp.group_id else None
        if groups and group is not None and summary.get("groups"):
            note_automatic(s, imp, group, summary["groups"][0], summary, listed_existing=summary["users_matched"])

    def check_commit(self, s: Session, imp: Import, summary: dict[str, Any]) -> None:
        if imp.group_id and is_automatic(s, imp):
            check_target(s, imp, summary, new_users=0)

    def summary_without_rows(self, imp: Import) -> list[Any]:
        return [(imp.group_name, imp.group_id, 0, 0)]

    def shown_name(self, s: Session, name: str | None, gid: int | None) -> str | None:
        if gid is not None:
            return s.scalar(select(Group.name).where(Group.id == gid))
        return name

    def named_groups(self, s: Session, imp: Import) -> list[NamedGroup]:
        if imp.group_id:
            name = s.scalar(select(Group.name).where(Group.id == imp.group_id))
            return [NamedGroup(name or str(imp.group_id), imp.group_id, None)]
        return [NamedGroup(imp.group_name or "", None, None)]

    def adopt_created_groups(self, imp: Import, created: Sequence[int]) -> None:
        if imp.group_name and created:
            imp.group_id, imp.group_name = created[0], None

    def rename_group(self, s: Session, imp: Import, old: str, new: str, problems: dict[str, list[str]]) -> None:
        if imp.group_name and imp.group_name.lower() == old.strip().lower():
            imp.group_name = new
        else:
            problems.setdefault("rename_groups", []).append(
                f"{old}: not a group this import creates (an existing group is renamed with PATCH /groups/{{id}})."
            )

    # --- apply ---------------------------------------------------------------------------------

    def prepare(self, s: Session, imp: Import, actor: Actor) -> int:
        """Create the import's new group (named beside the file), unless it goes into an existing one."""
        if imp.group_id is None:
            assert imp.group_name is not None
            existing = s.scalar(
                select(Group).where(Group.tenant_id == imp.tenant_id, func.lower(Group.name) == imp.group_name.lower())
            )
            group = existing or add_group(s, imp.tenant_id, {"name": imp.group_name, "source": "csv"}, actor)
            imp.group_id = group.id
            return 0 if existing else 1
        return 0

    def group_of_entry(self, imp: Import) -> Any:
        return literal(imp.group_id, Membership.__table__.c.group_id.type)

    def apply_chunk(
        self, rt: Runtime, s: Session, imp: Import, chunk: ColumnElement[bool], ok: int, actor: Actor
    ) -> dict[str, int]:
        group = s.get(Group, imp.group_id) if imp.group_id else None
        if group is None:
            errors = mark_rows(s, chunk, "error", N_("Not applied: the group no longer exists."))
            return {"applied": 0, "skipped": 0, "errors": errors}
        if group.kind == "automatic":
            return include_chunk(rt, s, imp, group, chunk, actor)
        return super().apply_chunk(rt, s, imp, chunk, ok, actor)

    def remove_unlisted(self, rt: Runtime, s: Session, imp: Import, actor: Actor) -> int:
        group = s.get(Group, imp.group_id) if imp.group_id else None
        if group is not None and group.kind == "automatic":
            return replace_includes(rt, s, imp, group, actor)
        return super().remove_unlisted(rt, s, imp, actor)

    def unlisted(self, imp: Import, listed: ColumnElement[bool]) -> tuple[Any, ColumnElement[bool]]:
        table = Membership.__table__
        targets = select(literal(imp.group_id)).where(exists().where(listed))
        kept = exists().where(listed, ImportRow.user_id == table.c.user_id)
        return targets, kept
