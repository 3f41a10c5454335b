"""The result of an import as CSV: one line per staged entry (row, status, message)."""

from __future__ import annotations

from typing import Any, Iterator

from sqlalchemy import select

from ..models.imports import ImportRow
from ..runtime import Runtime
from .preview import import_status

HEADER = ["row", "status", "email", "group", "column", "value", "message"]
CHUNK = 2000


def report_rows(rt: Runtime, tenant_id: int, import_id: int) -> Iterator[list[Any]]:
    """Rows of the report, read in keyset chunks; entries never reached say so."""
    status = import_status(rt, tenant_id, import_id)
    pending = {
        "previewed": "Not applied yet: the import was not committed.",
        "committed": "Not applied yet: the import is running.",
        "cancelled": "Not applied: the import was stopped before this row.",
        "failed": "Not applied: the import failed before this row.",
        "applied": "Not applied.",
    }[status]
    after = 0
    while True:
        with rt.db.read() as s:
            batch = s.execute(select(ImportRow.id, ImportRow.row_no, ImportRow.status, ImportRow.email,
                                     ImportRow.group_name, ImportRow.column_name, ImportRow.value, ImportRow.message)
                              .where(ImportRow.import_id == import_id, ImportRow.id > after)
                              .order_by(ImportRow.id).limit(CHUNK)).all()
        if not batch:
            return
        for _, row_no, st, email, group, column, value, message in batch:
            if st == "ok":
                st, message = "skipped", pending
            elif st == "excluded":
                st = "skipped"
            yield [row_no, st, email, group, column, value, message]
        after = batch[-1][0]
