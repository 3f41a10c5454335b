"""The group-based format: Groupname, then the group's members (Email, Email, ...)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func

from provisioning.i18n import N_, Message
from provisioning.imports.formats.columns import EMAIL, GROUP_NAME, Layout, norm
from provisioning.imports.formats.entries import Entry, email_of, error, group_error
from provisioning.imports.formats.memberships import NamedGroupsFormat
from provisioning.models.imports import ImportRow


class GroupUsersFormat(NamedGroupsFormat):
    name = "group-users"
    example_header = ("Groupname", "Email", "Email")
    example_rows = (("Mathematics", "ada@example.com", "alan@example.com"), ("Engineering", "ada@example.com", ""))
    repeatable_headers = frozenset(EMAIL)
    detect_priority = 0
    duplicate_what = N_("this user and group")

    def detects(self, keys: list[str], *, has_group_target: bool) -> bool:
        return bool(keys) and keys[0] in GROUP_NAME and any(k in EMAIL for k in keys[1:])

    def layout(self, header: list[str], mapping: dict[str, Any], custom: frozenset[str]) -> Layout:
        layout = Layout("group-users", len(header), header)
        for i, h in enumerate(header):
            key = norm(h)
            if key in GROUP_NAME and layout.group_col is None:
                layout.group_col = i
            elif key in EMAIL:
                layout.email_cols.append(i)
            elif key:
                raise self.file_error(
                    Message(
                        N_("Column %(column)r is not part of the group-based format: don't rename or add columns."),
                        column=h,
                    )
                )
        if layout.group_col is None:
            raise self.file_error(N_("The header has no 'Groupname' column."))
        if not layout.email_cols:
            raise self.file_error(N_("The header has no 'Email' column."))
        return layout

    def entries(self, layout: Layout, row_no: int, cells: list[str]) -> list[Entry]:
        assert layout.group_col is not None
        name = cells[layout.group_col]
        if not name:
            return [error(row_no, layout.header[layout.group_col], "", N_("The group name is missing."))]
        bad = group_error(layout, row_no, layout.group_col, name)
        if bad:
            return [bad]
        out: list[Entry] = []
        for col in layout.email_cols:
            if cells[col]:
                email, err = email_of(layout, row_no, cells[col], col)
                out.append(err or {"row_no": row_no, "status": "ok", "email": email, "group_name": name})
        if not out:
            return [
                error(
                    row_no,
                    layout.header[layout.email_cols[0]],
                    "",
                    N_("No email is given on this row."),
                    group_name=name,
                )
            ]
        return out

    def duplicate_keys(self, email: Any) -> list[Any]:
        return [email, func.lower(ImportRow.group_name)]
