"""The result of an import as CSV: one line per staged entry (row, status, message).

The job marks only the rows it skipped or could not apply; a row still "ok" is applied once
the Operation's checkpoint has passed it, and not reached otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from provisioning.imports.formats import FORMATS
from provisioning.imports.preview import import_status, load_import
from provisioning.models import Operation
from provisioning.models.imports import ImportRow
from provisioning.runtime import Runtime

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
    with rt.db.read() as s:
        imp = load_import(s, tenant_id, import_id)
        checkpoint = (
            s.scalar(select(Operation.checkpoint).where(Operation.id == imp.operation_id)) if imp.operation_id else None
        )
    through = int((checkpoint or {}).get("after", 0))
    created, updated = FORMATS[imp.format].applied_messages
    after = 0
    while True:
        with rt.db.read() as s:
            batch = s.execute(
                select(
                    ImportRow.id,
                    ImportRow.row_no,
                    ImportRow.status,
                    ImportRow.email,
                    ImportRow.group_name,
                    ImportRow.column_name,
                    ImportRow.value,
                    ImportRow.message,
                    ImportRow.user_id,
                )
                .where(ImportRow.import_id == import_id, ImportRow.id > after)
                .order_by(ImportRow.id)
                .limit(CHUNK)
            ).all()
        if not batch:
            return
        for row_id, row_no, st, email, group, column, value, message, user_id in batch:
            if st == "ok" and (row_id <= through or status == "applied"):
                st, message = "applied", created if user_id is None else updated
            elif st == "ok":
                st, message = "skipped", pending
            elif st == "excluded":
                st = "skipped"
            yield [row_no, st, email, group, column, value, message]
        after = batch[-1][0]
