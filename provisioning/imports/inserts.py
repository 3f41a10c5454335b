"""INSERT ... SELECT for a chunk, plain when it can be and ON CONFLICT DO NOTHING when it must."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from provisioning.db import insert_ignoring_conflicts


def insert_from(s: Session, table: Table, columns: Sequence[str], source, returning: Sequence[Any]) -> list[Any]:
    """Insert the rows of ``source``; rows that would conflict with a unique key are left out.

    The chunk's rows that can't be inserted were marked beforehand, so a plain INSERT (in a
    savepoint) nearly always succeeds.  ON CONFLICT's speculative insertion costs every row
    an extra probe of every unique index; it only runs when someone else inserted one of
    these rows meanwhile.
    """
    try:
        with s.begin_nested():
            return list(s.execute(table.insert().from_select(list(columns), source).returning(*returning)).all())
    except IntegrityError:
        return list(
            s.execute(
                insert_ignoring_conflicts(s, table).from_select(list(columns), source).returning(*returning)
            ).all()
        )
