"""Database engine, the unit of work, and dialect helpers for bulk SQL.

A service entry point opens one unit of work::

    with db.transaction() as s:
        ...                      # select/insert/update through ``s``
        on_commit(s, callback)   # e.g. enqueue a job for a row created above

The transaction commits when the block exits normally and rolls back on an
exception.  Callbacks registered with :func:`on_commit` run only after the
commit succeeded, so a job never reads a row that is not there yet.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import CursorResult, Result, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from provisioning.chunking import chunked
from provisioning.incidents import log_unexpected

log = logging.getLogger(__name__)

_AFTER_COMMIT = "after_commit_callbacks"


class Database:
    """An engine plus the session factory every unit of work comes from."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = _make_engine(url, echo=echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        # Reads on PostgreSQL run in autocommit: no BEGIN and no ROLLBACK round trip around them.
        # Under READ COMMITTED every statement takes its own snapshot anyway, so a read sees the
        # same rows either way; a request makes several reads, and on a busy server each round
        # trip costs a context switch to the database backend.
        reads = (
            self.engine
            if self.engine.dialect.name == "sqlite"
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._reads = sessionmaker(reads, expire_on_commit=False, autoflush=False)
        event.listen(self._reads, "do_orm_execute", _refuse_writes)
        event.listen(self._reads, "before_flush", _refuse_flush)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on error, then run after-commit hooks."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            callbacks = session.info.pop(_AFTER_COMMIT, [])
            committed = not session.in_transaction()
            session.close()
        if committed:
            for callback in callbacks:
                try:
                    callback()
                except Exception as exc:  # noqa: BLE001 - an after-commit hook must never undo a committed change
                    log_unexpected(log, "after-commit callback failed", exc)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading (nothing it changes is committed); closing it keeps loaded objects."""
        session = self._reads()
        try:
            yield session
        finally:
            session.close()

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    def dispose(self) -> None:
        self.engine.dispose()


def _refuse_writes(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise RuntimeError("db.read() is for reading; write in db.transaction()")


def _refuse_flush(session, flush_context, instances) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("db.read() is for reading; write in db.transaction()")


def on_commit(session: Session, callback: Callable[[], Any]) -> None:
    """Run ``callback`` after ``session``'s transaction commits (never if it rolls back)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def _make_engine(url: str, *, echo: bool) -> Engine:
    if url.startswith("sqlite"):
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, echo=echo, hide_parameters=True, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    # hide_parameters (both engines): SQL logs and errors never carry values (token hashes, people's data).
    engine = create_engine(url, echo=echo, hide_parameters=True, pool_size=10, max_overflow=10)
    _ping_idle_connections(engine)
    return engine


# A connection idle in the pool this long is pinged before use, so after a PostgreSQL restart
# the first request reconnects instead of failing.  SQLAlchemy's pool_pre_ping pings on every
# checkout: one more round trip per unit of work, 14% of a SCIM request's time under load
# (profiled), for connections that were in use a moment ago.
PING_IDLE_SECONDS = 1.0


def _ping_idle_connections(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _idle_since(dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection, record, proxy) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the pool replaces the connection and retries
            raise DisconnectionError(f"stale pooled connection: {exc}") from exc


def insert_ignoring_conflicts(session: Session, table: Table):
    """``INSERT ... ON CONFLICT DO NOTHING`` for the session's dialect.

    Returns an insert construct; call ``.on_conflict_do_nothing()`` is already applied.
    Both PostgreSQL and SQLite (3.24+) support the clause.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise NotImplementedError(f"bulk insert is not implemented for {dialect}")


def id_in(session: Session, column: Any, ids: Any):
    """``column IN (ids)`` for a chunk of ids, as ``column = ANY(:array)`` on PostgreSQL.

    One array parameter instead of hundreds of scalar ones: the statement binds and
    plans several times faster there, which matters for chunked bulk jobs.
    """
    values = list(ids)
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import any_, bindparam
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


def id_chunks(session: Session, ids: Any, size: int = 2000) -> list[list[int]]:
    """Split ids for statements using :func:`id_in`: one piece on PostgreSQL (one array
    parameter, whatever its length), pieces of ``size`` elsewhere (SQLite binds each id)."""
    values = list(ids)
    if session.get_bind().dialect.name == "postgresql":
        return [values] if values else []
    return [list(chunk) for chunk in chunked(values, size)]


def affected(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched (``Session.execute`` types its result as a plain Result)."""
    return cast(CursorResult[Any], result).rowcount
