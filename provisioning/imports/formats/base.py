"""The import format protocol: what a format declares once, and what the generic pipeline asks of it.

The pipeline (read -> stage -> validate -> preview -> edit -> apply chunks) never branches on
a format's name: it looks the format up in :data:`provisioning.imports.formats.FORMATS` and
calls these methods.  Defaults here are what a format without groups or users does; the
format modules override what they do differently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.orm import Session

from provisioning.activity import Actor
from provisioning.errors import InvalidInput
from provisioning.i18n import N_
from provisioning.imports.formats.columns import Layout, file_error
from provisioning.imports.formats.entries import Entry
from provisioning.models import Group
from provisioning.models.imports import Import, ImportRow
from provisioning.runtime import Runtime

# Staged columns beside these: the ones each format fills (the others stay NULL and cost the COPY nothing).
MEMBER_COLUMNS = ("given_name", "family_name")
LISTED = 10_000  # distinct groups of one file; more than any real upload names


@dataclass(frozen=True)
class NamedGroup:
    name: str
    group_id: int | None  # None: the import would create it
    first_row: int | None


class ImportFormat:
    """One import format: its layout, row validation, staged checks (marks), preview and apply.

    Class attributes declare the format; methods are called by the pipeline with the Import
    whose ``format`` names this format.
    """

    name: ClassVar[str]
    # The template: a header row the format reads, and two example rows.
    example_header: ClassVar[tuple[str, ...]]
    example_rows: ClassVar[tuple[tuple[str, ...], ...]]
    # Header names (normalised) a header may repeat.
    repeatable_headers: ClassVar[frozenset[str]] = frozenset()
    # Detection from a header: formats are tried by ascending priority, the first whose
    # :meth:`detects` says yes is the format.
    detect_priority: ClassVar[int]
    # The staged columns this format fills besides the base ones.
    staged_columns: ClassVar[tuple[str, ...]] = MEMBER_COLUMNS
    # Whether the import goes into one group given beside the file (group_id / group_name).
    takes_group_target: ClassVar[bool] = False
    # Whether mode=replace (remove the members the file doesn't list) applies.
    replaces_members: ClassVar[bool] = False
    # The report's message for an applied row: (its user was created, its user existed).
    applied_messages: ClassVar[tuple[str, str]] = ("Added to the group.", "Added to the group.")
    # What a duplicate row repeats ("Duplicate: {what} is already on row n.").
    duplicate_what: ClassVar[str] = N_("this user")

    # --- layout --------------------------------------------------------------------------------

    def file_error(self, message: str) -> InvalidInput:
        """A file-level error, with this format's header row as the example."""
        return file_error(message, self.example_header)

    def detects(self, keys: list[str], *, has_group_target: bool) -> bool:
        """Whether a header row (its normalised names) is written in this format."""
        raise NotImplementedError

    def layout(self, header: list[str], mapping: dict[str, Any], custom: frozenset[str]) -> Layout:
        """Map the header's columns; a missing or unknown required header raises a file-level error."""
        raise NotImplementedError

    # --- rows ----------------------------------------------------------------------------------

    def entries(self, layout: Layout, row_no: int, cells: list[str]) -> list[Entry]:
        """The staged entries of one data row (cells padded to the header's width)."""
        raise NotImplementedError

    def target_group(
        self, s: Session, tenant_id: int, imp: Import, *, group_id: int | None, group_name: str | None
    ) -> None:
        """Check and record the group given beside the file (only formats that take one)."""

    # --- staged checks (marks) -----------------------------------------------------------------

    def mark_staged(self, s: Session, imp: Import, email_header: str | None, *, just_staged: bool) -> None:
        """Mark the staged rows that can't be applied, one set-based UPDATE per rule."""
        raise NotImplementedError

    def duplicate_keys(self, email: Any) -> list[Any]:
        """The columns that make two staged rows the same entry (the first one must not be NULL)."""
        return [email]

    def other_duplicates(self) -> list[tuple[Any, str, Any]]:
        """Other columns no two staged rows may share: (column, what it names, the value to show)."""
        return []

    # --- preview -------------------------------------------------------------------------------

    def summarize(self, s: Session, imp: Import, summary: dict[str, Any], *, groups: bool) -> None:
        """Add this format's numbers to the preview summary (counts over the staged rows)."""
        summary.update(groups=[], groups_total=0)

    def named_groups(self, s: Session, imp: Import) -> list[NamedGroup]:
        """Every group the import's valid rows go into, existing or new."""
        rows = s.execute(
            select(func.min(ImportRow.group_name), Group.id, func.min(ImportRow.row_no))
            .select_from(ImportRow)
            .outerjoin(
                Group,
                and_(Group.tenant_id == imp.tenant_id, func.lower(Group.name) == func.lower(ImportRow.group_name)),
            )
            .where(ImportRow.import_id == imp.id, ImportRow.status == "ok", ImportRow.group_name.is_not(None))
            .group_by(func.lower(ImportRow.group_name), Group.id)
            .order_by(func.min(ImportRow.row_no))
            .limit(LISTED)
        ).all()
        # min(group_name) over rows whose group_name IS NOT NULL: never NULL.
        return [NamedGroup(cast(str, name), gid, row) for name, gid, row in rows]

    def adopt_created_groups(self, imp: Import, created: Sequence[int]) -> None:
        """The groups the import names were created ahead of its job (ids in the order named)."""

    # --- edits ---------------------------------------------------------------------------------

    def rename_group(self, s: Session, imp: Import, old: str, new: str, problems: dict[str, list[str]]) -> None:
        """Rename a group the staged rows name (``new`` is checked already)."""
        changed = s.execute(  # type: ignore[attr-defined]
            update(ImportRow)
            .where(ImportRow.import_id == imp.id, func.lower(ImportRow.group_name) == old.strip().lower())
            .values(group_name=new)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not changed:
            problems.setdefault("rename_groups", []).append(f"No group named {old!r} in this import.")

    # --- apply ---------------------------------------------------------------------------------

    def check_commit(self, s: Session, imp: Import, summary: dict[str, Any]) -> None:
        """Refuse the commit of a previewed import this format can't apply now."""

    def prepare(self, s: Session, imp: Import, actor: Actor) -> int:
        """Before the first chunk: create what the rows need; returns how many groups were created."""
        return 0

    def apply_chunk(
        self, rt: Runtime, s: Session, imp: Import, chunk: ColumnElement[bool], ok: int, actor: Actor
    ) -> dict[str, int]:
        """Apply the staged rows of ``chunk`` (``ok`` of them still "ok"); returns the counters to add."""
        raise NotImplementedError

    def remove_unlisted(self, rt: Runtime, s: Session, imp: Import, actor: Actor) -> int:
        """Replace mode, after the last chunk: remove what the file doesn't list; returns how many."""
        return 0
