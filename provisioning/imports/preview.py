"""Preview an import: parse and validate a file without changing any user, group or membership.

The parsed rows are staged in ``import_rows`` so that a later commit — from any process —
applies exactly what the preview showed.  Counts in the preview come from SQL over the
staged rows, never from rows held in Python.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import and_, distinct, func, select
from sqlalchemy.orm import Session

from provisioning.activity import Actor, record
from provisioning.errors import Forbidden, InvalidInput, NotFound
from provisioning.i18n import N_, Message
from provisioning.imports import formats
from provisioning.imports.marks import mark_out_of_scope
from provisioning.imports.names import IGNORED, IGNORED_NOTICE, UPDATE
from provisioning.imports.outcome import groups_after_run, run_result
from provisioning.imports.reading import HEADER_SCAN, read_table
from provisioning.imports.staging import analyze_stale, stage
from provisioning.imports.validate import entries_for_row, validate_staged
from provisioning.models import Operation, Tenant
from provisioning.models.imports import IMPORT_MODES, Import, ImportRow
from provisioning.pagination import Page, paginate
from provisioning.runtime import Runtime
from provisioning.settings_catalog import declared_custom_attributes


@dataclass
class ImportOptions:
    """What the admin chose beside the file."""

    format: str = "auto"
    group_id: int | None = None
    group_name: str | None = None
    mode: str = "add"
    all_or_nothing: bool = False
    column_mapping: dict[str, Any] = field(default_factory=dict)


USERS_FILE_REFUSAL = N_(
    "A file of users (without groups) changes people across the whole organisation; "
    "only administrators may upload it. Upload a file that lists your groups."
)


def create_import(
    rt: Runtime,
    tenant_id: int,
    stream: IO[bytes],
    filename: str | None,
    options: ImportOptions,
    actor: Actor,
    *,
    users_within: Any = None,
) -> Import:
    """Parse, validate and stage a file; returns the Import with its preview summary.

    File-level problems (unreadable file, wrong header) raise InvalidInput; row problems are
    staged as errors and shown in the preview.  Nothing outside the import tables changes.
    ``users_within`` (a SELECT of user ids; a group manager's scope): a row naming anyone else is an
    error worded like an unknown email's, so neither the preview nor the commit reaches past it.
    """
    _check_options(options)
    with rt.db.read() as s:
        tenant = s.get(Tenant, tenant_id)
        assert tenant is not None, "the caller's tenant exists"
        custom = frozenset(declared_custom_attributes(tenant.settings))
    has_group_target = bool(options.group_id or options.group_name)

    def is_header(cells: list[str]) -> bool:
        return formats.header_matches(
            cells,
            fmt=options.format,
            has_group_target=has_group_target,
            mapping=options.column_mapping,
            custom_names=custom,
        )

    table = read_table(stream, filename, max_rows=rt.settings.import_max_rows, is_header=is_header)
    with rt.db.transaction() as s:
        try:
            fmt = options.format
            if fmt == "auto":
                fmt = formats.detect_format(
                    table.header, has_group_target=has_group_target, mapping=options.column_mapping
                )
            layout = formats.layout_for(fmt, table.header, mapping=options.column_mapping, custom_names=custom)
        except InvalidInput as exc:
            if table.header_found:
                raise
            template = (
                N_(
                    "No header row was found in the first %(rows)s rows of any sheet; the first filled row "
                    "(%(first_row)s) was taken for it. %(reason)s"
                )
                if table.sheet is not None
                else N_(
                    "No header row was found in the first %(rows)s rows of the file; the first filled row "
                    "(%(first_row)s) was taken for it. %(reason)s"
                )
            )
            raise InvalidInput(
                template,
                details=exc.details,
                rows=HEADER_SCAN,
                first_row=table.where(),
                reason=exc.message,
            ) from exc
        format_ = formats.FORMATS[fmt]
        if options.mode == "replace" and not format_.replaces_members:
            raise InvalidInput(
                N_("Mode replace applies to group memberships, not to the %(fmt)s format."),
                details={"mode": [Message(N_("Use add with the %(fmt)s format."), fmt=fmt)]},
                fmt=fmt,
            )
        imp = Import(
            tenant_id=tenant_id,
            format=fmt,
            mode=options.mode,
            all_or_nothing=options.all_or_nothing,
            status="previewed",
            filename=(filename or "")[:400] or None,
            encoding=table.encoding,
            delimiter=table.delimiter,
            column_mapping=options.column_mapping or {},
            created_by=actor.name,
        )
        format_.target_group(s, tenant_id, imp, group_id=options.group_id, group_name=options.group_name)
        s.add(imp)
        s.flush()
        counter = {"rows": 0}
        imp.entry_count = stage(s, imp.id, tenant_id, format_.staged_columns, _entries(layout, table.rows, counter))
        imp.row_count = counter["rows"]
        analyze_stale(s, "import_rows")
        if imp.row_count == 0:
            raise InvalidInput(N_("The file has a header but no data rows."), details={"file": [N_("No data rows.")]})
        email_header = (
            layout.header[layout.email_col]
            if layout.email_col is not None
            else (layout.header[layout.email_cols[0]] if layout.email_cols else None)
        )
        above = (
            [Message(N_("The header row is %(where)s; the rows above it were not read."), where=table.where())]
            if table.header_row > 1
            else []
        )
        names = names_notices(format_, layout, managed=users_within is not None)
        imp.summary = {
            "names": IGNORED if users_within is not None else UPDATE,
            "sheet": table.sheet,
            "header_row": table.header_row,
            "warnings": above + table.warnings + layout.warnings + names,
            "email_header": email_header,
            "columns": {name: layout.header[i] for name, i in layout.user_cols.items()},
        }
        validate_staged(s, imp, email_header, just_staged=True)
        if users_within is not None:
            if fmt == "users":
                raise Forbidden(USERS_FILE_REFUSAL)
            mark_out_of_scope(s, imp.id, users_within, email_header, imp.summary["columns"].get("user_id"))
        refresh_summary(s, imp)
        record(
            s,
            tenant_id,
            actor,
            "import.previewed",
            "import",
            imp.id,
            {"format": fmt, "rows": imp.row_count, "errors": imp.summary["error_count"]},
        )
    return imp


def names_notices(format_: formats.ImportFormat, layout: formats.Layout, *, managed: bool) -> list[str]:
    """What the preview says of the file's first and last names when they are not applied."""
    has_names = layout.first_col is not None or layout.last_col is not None
    return [IGNORED_NOTICE] if managed and has_names and format_.replaces_members else []


def _check_options(options: ImportOptions) -> None:
    if options.mode not in IMPORT_MODES:
        raise InvalidInput(
            N_("Unknown mode %(mode)r."), details={"mode": [N_("Must be add or replace.")]}, mode=options.mode
        )
    if options.group_id and options.group_name:
        raise InvalidInput(
            N_("Give group_id or group_name, not both."),
            details={"group_name": [N_("Give one of group_id, group_name.")]},
        )
    if options.group_name is not None and not (0 < len(options.group_name.strip()) <= 400):
        raise InvalidInput(
            N_("The new group's name must have 1 to 400 characters."),
            details={"group_name": [N_("1 to 400 characters.")]},
        )
    chosen = formats.FORMATS.get(options.format)
    takes_group = options.format == "auto" or (chosen is not None and chosen.takes_group_target)
    if not takes_group and (options.group_id or options.group_name):
        raise InvalidInput(
            N_(
                "group_id and group_name only apply to the members format (and group_id to the users format: bulk add)."
            ),
            details={"group_id": [N_("Only with format=members or format=users.")]},
        )


def _entries(layout: formats.Layout, rows: Iterator[tuple[int, list[str]]], counter: dict[str, int]):
    for row_no, cells in rows:
        entries = entries_for_row(layout, row_no, cells)
        if entries:
            counter["rows"] += 1
        yield from entries


# --- the summary -------------------------------------------------------------------------------


def refresh_summary(s: Session, imp: Import, *, groups: bool = True) -> None:
    """Recompute the preview numbers from the staged rows (after staging and after each edit).

    ``groups=False`` (the commit) keeps the groups as last previewed and recounts the rest.
    """
    base = ImportRow.import_id == imp.id
    errors = s.execute(
        select(func.count(), func.count(distinct(ImportRow.row_no))).where(base, ImportRow.status == "error")
    ).one()
    live = and_(base, ImportRow.status.in_(("ok", "applied", "skipped")))
    matched = s.scalar(select(func.count(distinct(ImportRow.user_id))).where(live)) or 0
    summary = {
        **(imp.summary or {}),
        "error_count": errors[0],
        "error_rows": errors[1],
        "users_matched": matched,
        "excluded": s.scalar(select(func.count()).where(base, ImportRow.status == "excluded")) or 0,
        "entries_valid": s.scalar(select(func.count()).where(live)) or 0,
    }
    formats.FORMATS[imp.format].summarize(s, imp, summary, groups=groups)
    imp.summary = summary


# --- reading imports back ------------------------------------------------------------------------


def load_import(s: Session, tenant_id: int, import_id: int, *, for_update: bool = False) -> Import:
    stmt = select(Import).where(Import.id == import_id, Import.tenant_id == tenant_id)
    imp = s.scalar(stmt.with_for_update() if for_update else stmt) if isinstance(import_id, int) else None
    if imp is None:
        raise NotFound(N_("No import with id %(import_id)s."), import_id=import_id)
    return imp


def get_import(rt: Runtime, tenant_id: int, import_id: int) -> Import:
    """One import with its stored preview."""
    with rt.db.read() as s:
        return load_import(s, tenant_id, import_id)


def list_imports(rt: Runtime, tenant_id: int, *, page: int = 1, per_page: int = 50) -> Page[Import]:
    """The tenant's imports, newest first."""
    stmt = select(Import).where(Import.tenant_id == tenant_id).order_by(Import.created_at.desc(), Import.id.desc())
    with rt.db.read() as s:
        return paginate(s, stmt, page, per_page)


def list_errors(rt: Runtime, tenant_id: int, import_id: int, *, page: int = 1, per_page: int = 50) -> Page[ImportRow]:
    """Row errors of an import, in file order."""
    with rt.db.read() as s:
        load_import(s, tenant_id, import_id)
        stmt = (
            select(ImportRow)
            .where(ImportRow.import_id == import_id, ImportRow.status == "error")
            .order_by(ImportRow.row_no, ImportRow.id)
        )
        return paginate(s, stmt, page, per_page)


def import_status(rt: Runtime, tenant_id: int, import_id: int) -> str:
    """previewed, committed (queued or running), applied, cancelled or failed."""
    with rt.db.read() as s:
        imp = load_import(s, tenant_id, import_id)
        if imp.status != "committed" or imp.operation_id is None:
            return imp.status
        op_status = s.scalar(select(Operation.status).where(Operation.id == imp.operation_id))
    return {"cancelled": "cancelled", "failed": "failed"}.get(op_status or "", "committed")


def describe_import(rt: Runtime, tenant_id: int, import_id: int, *, errors_per_page: int = 50) -> dict[str, Any]:
    """The preview as plain data: options, detected format, groups, counts, the first page of errors."""
    status = import_status(rt, tenant_id, import_id)
    errors = list_errors(rt, tenant_id, import_id, page=1, per_page=errors_per_page)
    with rt.db.read() as s:
        imp = load_import(s, tenant_id, import_id)
        summary = imp.summary or {}
        result = run_result(s, imp)  # once committed, the figures shown are the run's own (imports/outcome.py)
        shown_groups = groups_after_run(s, imp, summary.get("groups", [])) if result else summary.get("groups", [])
    return {
        "id": imp.id,
        "status": status,
        "format": imp.format,
        "encoding": imp.encoding,
        "delimiter": imp.delimiter,
        "filename": imp.filename,
        "mode": imp.mode,
        "all_or_nothing": imp.all_or_nothing,
        "group_id": imp.group_id,
        "group_name": imp.group_name,
        "rows": imp.row_count,
        "entries": imp.entry_count,
        "groups": shown_groups,
        "groups_total": summary.get("groups_total", 0),
        "users_matched": summary.get("users_matched", 0),
        "users_new": summary.get("users_new"),
        "names_changing": summary.get("names_changing"),
        "error_count": summary.get("error_count", 0),
        "error_rows": summary.get("error_rows", 0),
        "excluded": summary.get("excluded", 0),
        "errors": [error_item(r) for r in errors.items],
        "warnings": summary.get("warnings", []),
        "sheet": summary.get("sheet"),
        "header_row": summary.get("header_row", 1),
        "operation_id": imp.operation_id,
        "result": result,
        "created_at": imp.created_at,
    }


def error_item(row: ImportRow) -> dict[str, Any]:
    return {
        "row": row.row_no,
        "column": row.column_name,
        "value": row.value,
        "message": row.message,
        "email": row.email,
        "group": row.group_name,
    }
