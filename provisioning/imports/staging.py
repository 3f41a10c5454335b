"""Write parsed entries into ``import_rows`` in bulk: COPY on PostgreSQL, executemany elsewhere.

Entries arrive from a generator and are written a chunk at a time, so a file of a million
rows never sits in memory.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from ..models.imports import STAGED_USER_FIELDS, ImportRow

COLUMNS = ("import_id", "row_no", "status", "email", "group_name", "column_name", "value", "message",
           *STAGED_USER_FIELDS, "custom_attributes")
BATCH = 5000


def stage(s: Session, import_id: int, entries: Iterable[dict[str, Any]]) -> int:
    """Insert every entry for ``import_id``; returns how many were written."""
    total = 0
    for batch in _batches(entries, BATCH):
        rows = [{c: e.get(c) for c in COLUMNS} | {"import_id": import_id} for e in batch]
        if s.get_bind().dialect.name == "postgresql":
            _copy(s, rows)
        else:
            s.execute(insert(ImportRow), rows)
        total += len(rows)
    return total


def analyze(s: Session, *tables: str) -> None:
    """Refresh PostgreSQL's statistics of tables after (or before) a bulk change.

    Without them the planner takes a freshly loaded table for empty and may scan a whole
    import, or all users, for every chunk.  ANALYZE counts the open transaction's own rows.
    """
    if s.get_bind().dialect.name == "postgresql":
        for table in tables or ("import_rows",):
            s.execute(text(f"ANALYZE {table}"))


def _copy(s: Session, rows: list[dict[str, Any]]) -> None:
    # COPY ... FROM STDIN inside the session's own transaction (psycopg 3's copy API).
    raw = s.connection().connection.driver_connection
    with raw.cursor() as cur:
        with cur.copy(f"COPY import_rows ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                custom = row["custom_attributes"]
                row["custom_attributes"] = None if custom is None else json.dumps(custom)
                copy.write_row(tuple(row[c] for c in COLUMNS))


def _batches(items: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
