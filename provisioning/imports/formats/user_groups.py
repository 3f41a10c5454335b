"""The user-based format: email, FirstName, LastName, then the person's groups (Groupname, Groupname, ...)."""

from __future__ import annotations

from typing import Any

from provisioning.i18n import N_, Message
from provisioning.imports.formats.columns import EMAIL, GROUP_NAME, Layout, norm, person_column
from provisioning.imports.formats.entries import Entry, email_of, error, group_error, names_of
from provisioning.imports.formats.memberships import NamedGroupsFormat


class UserGroupsFormat(NamedGroupsFormat):
    name = "user-groups"
    example_header = ("email", "FirstName", "LastName", "Groupname", "Groupname")
    example_rows = (
        ("ada@example.com", "Ada", "Lovelace", "Mathematics", "Engineering"),
        ("alan@example.com", "Alan", "Turing", "Mathematics", ""),
    )
    repeatable_headers = frozenset(GROUP_NAME)
    detect_priority = 1
    rows_may_repeat_pairs = True

    def detects(self, keys: list[str], *, has_group_target: bool) -> bool:
        return any(k in EMAIL for k in keys) and any(k in GROUP_NAME for k in keys)

    def layout(self, header: list[str], mapping: dict[str, Any], custom: frozenset[str]) -> Layout:
        layout = Layout("user-groups", len(header), header)
        for i, h in enumerate(header):
            key = norm(h)
            if person_column(layout, key, i):
                continue
            if key in GROUP_NAME:
                layout.group_cols.append(i)
            elif key:
                raise self.file_error(
                    Message(
                        N_("Column %(column)r is not part of the user-based format: don't rename or add columns."),
                        column=h,
                    )
                )
        if layout.email_col is None:
            raise self.file_error(N_("The header has no 'email' column."))
        if not layout.group_cols:
            raise self.file_error(N_("The header has no 'Groupname' column."))
        return layout

    def entries(self, layout: Layout, row_no: int, cells: list[str]) -> list[Entry]:
        assert layout.email_col is not None
        email, err = email_of(layout, row_no, cells[layout.email_col], layout.email_col)
        if err:
            return [err]
        names = names_of(layout, cells)
        out: list[Entry] = []
        for col in layout.group_cols:
            name = cells[col]
            if name:
                out.append(
                    group_error(layout, row_no, col, name)
                    or {"row_no": row_no, "status": "ok", "email": email, "group_name": name, **names}
                )
        if not out:
            return [
                error(
                    row_no, layout.header[layout.group_cols[0]], "", N_("No group is named on this row."), email=email
                )
            ]
        return out
