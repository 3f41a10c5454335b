"""Write parsed entries into ``import_rows`` in bulk, each row once, with its user already resolved.

On PostgreSQL the entries are COPied into a temporary table (which draws the row ids from
``import_rows``' sequence, so they follow the file), then one ``INSERT ... SELECT`` joins
them to ``users`` on the email's identity key and writes them into ``import_rows`` with ``user_id`` set.
Elsewhere: executemany, then one UPDATE.  Entries arrive from a generator and are written
a batch at a time, so a file of a million rows never sits in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from provisioning.models.imports import ImportRow

BASE_COLUMNS = ("import_id", "row_no", "status", "email", "group_name", "column_name", "value", "message")
BATCH = 5000
STAGE_TABLE = "import_stage"


def stage(
    s: Session, import_id: int, tenant_id: int, format_columns: tuple[str, ...], entries: Iterable[dict[str, Any]]
) -> int:
    """Insert every entry for ``import_id`` with the id of the tenant's user its email names; returns how many.

    ``format_columns`` are the columns the import's format fills (``ImportFormat.staged_columns``):
    the others stay NULL and cost the COPY nothing.
    """
    postgres = s.get_bind().dialect.name == "postgresql"
    columns = BASE_COLUMNS + format_columns
    if postgres:
        s.execute(text(f"DROP TABLE IF EXISTS {STAGE_TABLE}"))
        s.execute(text(f"CREATE TEMPORARY TABLE {STAGE_TABLE} (LIKE import_rows INCLUDING DEFAULTS) ON COMMIT DROP"))
    total = 0
    for batch in _batches(entries, BATCH):
        rows = [(import_id, *map(e.get, columns[1:])) for e in batch]
        if postgres:
            _copy(s, columns, rows)
        else:
            s.execute(insert(ImportRow), [dict(zip(columns, row)) for row in rows])
        total += len(rows)
    if postgres:
        _move_resolving_users(s, tenant_id, columns)
    else:
        s.execute(
            text(
                "UPDATE import_rows SET user_id = coalesce((SELECT users.id FROM users WHERE users.tenant_id = :t "
                "AND users.email_key = import_rows.email), user_id) "
                "WHERE import_id = :i AND email IS NOT NULL"
            ),
            {"t": tenant_id, "i": import_id},
        )
    return total


def _move_resolving_users(s: Session, tenant_id: int, columns: tuple[str, ...]) -> None:
    """One INSERT ... SELECT from the temporary table into import_rows, joined to the tenant's users."""
    # No ANALYZE of the temporary table: without statistics the planner sizes it from its pages,
    # which is enough to hash the users for a big file and probe their index for a small one.
    # user_id: the user the email names, else the id the file gave (the enrollments format), checked later.
    columns = ("id", *columns) + (() if "user_id" in columns else ("user_id",))
    values = ", ".join("coalesce(u.id, st.user_id)" if c == "user_id" else f"st.{c}" for c in columns)
    s.execute(
        text(
            f"INSERT INTO import_rows ({', '.join(columns)}) SELECT {values} FROM {STAGE_TABLE} st "
            "LEFT JOIN users u ON u.tenant_id = :t AND u.email_key = st.email"
        ),
        {"t": tenant_id},
    )
    s.execute(text(f"DROP TABLE {STAGE_TABLE}"))


def analyze(s: Session, *tables: str) -> None:
    """Refresh PostgreSQL's statistics of tables after (or before) a bulk change.

    Without them the planner takes a freshly loaded table for empty and may scan a whole
    import, or all users, for every chunk.  ANALYZE counts the open transaction's own rows.
    """
    if s.get_bind().dialect.name == "postgresql":
        for table in tables or ("import_rows",):
            s.execute(text(f"ANALYZE {table}"))


def analyze_stale(s: Session, *tables: str, growth: float = 0.2) -> None:
    """ANALYZE those of ``tables`` changed by more than ``growth`` (a fifth) since their statistics were taken.

    ANALYZE samples a fixed number of rows, so it costs a large table a good second under load;
    tables autovacuum keeps current are left alone.
    """
    if s.get_bind().dialect.name != "postgresql":
        return
    # A table never analyzed (reltuples -1: a fresh install) is planned as nearly empty even while this
    # transaction fills it, so the duplicate check joins each staged row to all of them (minutes at 30,000).
    stale = s.scalars(
        text(
            "SELECT st.relname FROM pg_stat_user_tables st JOIN pg_class c ON c.oid = st.relid "
            "WHERE st.relname = ANY(:t) AND (st.n_mod_since_analyze > :growth * greatest(st.n_live_tup, 1000) "
            "OR c.reltuples < 0)"
        ),
        {"t": list(tables), "growth": growth},
    ).all()
    if stale:
        analyze(s, *stale)


def _copy(s: Session, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    # COPY ... FROM STDIN inside the session's own transaction (psycopg 3's copy API).
    raw = s.connection().connection.driver_connection
    assert raw is not None, "a live DBAPI connection"
    custom = columns.index("custom_attributes") if "custom_attributes" in columns else None
    with raw.cursor() as cur:
        with cur.copy(f"COPY {STAGE_TABLE} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                if custom is not None and row[custom] is not None:
                    row = (*row[:custom], json.dumps(row[custom]), *row[custom + 1 :])
                copy.write_row(row)


def _batches(items: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
