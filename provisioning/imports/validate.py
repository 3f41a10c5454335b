"""Validation: per row while reading (shape, then the format's checks), then set-based over the staged rows.

:func:`entries_for_row` turns one row into staged entries (one per member of a group, or
one per user) or error entries.  :func:`validate_staged` runs the checks that need the
database or the whole file — unknown emails, duplicates, automatic groups, username
conflicts — as a handful of UPDATE statements over ``import_rows``.  What each check is
belongs to the format (:mod:`provisioning.imports.formats`); this module only runs them.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from provisioning.i18n import N_, Message
from provisioning.imports.formats import FORMATS, Layout
from provisioning.imports.formats.entries import MAX_LENGTH, Entry, error
from provisioning.imports.formats.memberships import UNKNOWN_EMAIL
from provisioning.imports.marks import sql_sentence
from provisioning.models.imports import Import, ImportRow
from provisioning.text import describe, first_bad_character, shown, text_problem

__all__ = ["MAX_LENGTH", "UNKNOWN_EMAIL", "Entry", "entries_for_row", "error", "validate_staged"]


def entries_for_row(layout: Layout, row_no: int, cells: list[str]) -> list[Entry]:
    """The staged entries of one data row (an empty list for a blank row)."""
    if not any(cells):
        return []
    unstorable = _text_error(layout, row_no, cells)
    if unstorable:
        return [unstorable]
    shape = _shape_error(layout, row_no, cells)
    if shape:
        return [shape]
    if len(cells) < layout.width:
        cells = cells + [""] * (layout.width - len(cells))
    return FORMATS[layout.format].entries(layout, row_no, cells)


def _text_error(layout: Layout, row_no: int, cells: list[str]) -> Entry | None:
    """A cell with a NUL, or bytes the file's encoding can't decode (read as lone surrogates), can't be stored."""
    for index, cell in enumerate(cells):
        found = first_bad_character(cell) if text_problem(cell) else None
        if found is None:
            continue
        column = layout.header[index] if index < len(layout.header) else f"column {index + 1}"
        char = found[1]
        what: str
        if "\udc80" <= char <= "\udcff":  # surrogateescape's stand-in for an undecodable byte
            what = Message(
                N_("a byte (0x%(byte)s) the file's encoding can't decode; save the file as UTF-8"),
                byte=f"{ord(char) - 0xDC00:02X}",
            )
        else:
            what = describe(char)
        return error(
            row_no,
            column,
            shown(cell, 500),
            Message(
                N_("Row %(row_no)s, column %(column)r: the cell contains %(what)s."),
                row_no=row_no,
                column=column,
                what=what,
            ),
        )
    return None


def _shape_error(layout: Layout, row_no: int, cells: list[str]) -> Entry | None:
    if len(cells) == layout.width:
        return None
    extra = [c for c in cells[layout.width :] if c]
    if extra:
        return error(
            row_no,
            None,
            ", ".join(extra)[:500],
            Message(
                N_(
                    "Row %(row_no)s has %(cells)s cells but the header has %(width)s; a value is outside every column "
                    "(a stray delimiter or an unquoted field?)."
                ),
                row_no=row_no,
                cells=len(cells),
                width=layout.width,
            ),
        )
    repeated = layout.group_cols or layout.email_cols
    # Rows of the user- and group-based formats may stop after their last Groupname/Email.
    needed = min(repeated) + 1 if repeated else layout.width
    if len(cells) < needed:
        return error(
            row_no,
            None,
            None,
            Message(
                N_("Row %(row_no)s has %(cells)s cells but the header has %(width)s; a delimiter is missing."),
                row_no=row_no,
                cells=len(cells),
                width=layout.width,
            ),
        )
    return None


# --- set-based checks over the staged rows ---------------------------------------------------


def validate_staged(
    s: Session, imp: Import, email_header: str | None, *, just_staged: bool = False, duplicates: bool = True
) -> None:
    """Mark staged entries that can't be applied, with one UPDATE per rule (each writes only the rows it marks).

    Right after staging, ``user_id`` is exactly what the emails resolved to; later (an edit, the
    commit) users may have come or gone since, so they are checked again.
    """
    FORMATS[imp.format].mark_staged(s, imp, email_header, just_staged=just_staged)
    if duplicates:  # they depend on the staged rows alone: the commit doesn't look again
        _mark_duplicates(s, imp)


def _mark_duplicates(s: Session, imp: Import) -> None:
    """A second row naming the same user (and group) is an error pointing at the first.

    The user-based format and the users format allow a user on one row only; member lists
    one row per user; the group-based format one pair (group, email).
    """
    postgres = s.get_bind().dialect.name == "postgresql"
    email = ImportRow.email.collate("C") if postgres else ImportRow.email
    fmt = FORMATS[imp.format]
    # "C": bytes, not the locale's rules (the staged keys are normalised already: identity_keys.py).
    rules = [(fmt.duplicate_keys(email), fmt.duplicate_what, ImportRow.email)]
    rules += [([key.collate("C") if postgres else key], what, value) for key, what, value in fmt.other_duplicates()]
    for keys, what, value in rules:
        ranked = (
            select(
                ImportRow.id.label("id"),
                ImportRow.row_no.label("row_no"),
                func.min(ImportRow.row_no).over(partition_by=keys).label("first_row"),
            )
            .where(ImportRow.import_id == imp.id, ImportRow.status == "ok", keys[0].is_not(None))
            .subquery()
        )
        # UPDATE ... FROM the ranked rows: one pass of the window function, joined by id.
        s.execute(
            update(ImportRow)
            .where(ImportRow.id == ranked.c.id, ranked.c.row_no > ranked.c.first_row)
            .values(
                status="error",
                value=value,
                message=sql_sentence(
                    N_("Duplicate: %(what)s is already on row %(row)s."), what=what, row=ranked.c.first_row
                ),
            )
            .execution_options(synchronize_session=False)
        )
