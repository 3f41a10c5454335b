"""Spreadsheet output: CSV lines and XLSX workbooks written row by row, safe to open in Excel.

Cells starting with ``= + - @``, a tab or a carriage return are prefixed with ``'`` so a
spreadsheet shows them as text instead of running them as formulas (OWASP "CSV injection").
Imports drop that prefix again, so an export re-imports unchanged.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select

from provisioning.models import Membership, User
from provisioning.runtime import Runtime
from provisioning.store.groups import load_group

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MEMBER_HEADER = ["First name", "Last name", "Email", "Username", "Status", "Last login", "Source"]
CHUNK = 1000


def escape_cell(value: Any) -> str:
    """The text of a cell, made inert for spreadsheet programs."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(header: list[str], rows: Iterable[Iterable[Any]], *, bom: bool = False) -> Iterator[str]:
    """Yield a CSV document a few hundred rows at a time (escaped, CRLF line ends as RFC 4180 §2 says)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if bom:
        buffer.write(codecs.BOM_UTF8.decode("utf-8"))
    writer.writerow(header)
    for n, row in enumerate(rows, start=1):
        writer.writerow([escape_cell(v) for v in row])
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_file(
    header: list[str], rows: Iterable[Iterable[Any]], *, title: str = "Sheet1"
) -> tempfile.SpooledTemporaryFile:
    """Write a workbook with openpyxl's write-only mode (rows go to disk as they come); returns the file, rewound."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31] or "Sheet1")
    sheet.append(header)
    for row in rows:
        sheet.append([escape_cell(v) for v in row])
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    workbook.save(out)
    out.seek(0)
    return out


def file_chunks(fh, size: int = 64 * 1024) -> Iterator[bytes]:
    try:
        while chunk := fh.read(size):
            yield chunk
    finally:
        fh.close()


def group_title(rt: Runtime, tenant_id: int, group_id: int) -> str:
    """The group's name (NotFound for another tenant's group, before any byte is streamed)."""
    with rt.db.read() as s:
        return load_group(s, tenant_id, group_id).name


def member_rows(rt: Runtime, tenant_id: int, group_id: int) -> Iterator[list[Any]]:
    """Members of a group in user-id order, read by keyset chunks so memory stays flat."""
    after = 0
    while True:
        with rt.db.read() as s:
            batch = s.execute(
                select(
                    User.id,
                    User.given_name,
                    User.family_name,
                    User.email,
                    User.username,
                    User.status,
                    User.last_login_at,
                    Membership.source,
                )
                .join(Membership, Membership.user_id == User.id)
                .where(
                    Membership.group_id == group_id,
                    Membership.tenant_id == tenant_id,
                    User.tenant_id == tenant_id,
                    User.id > after,
                )
                .order_by(User.id)
                .limit(CHUNK)
            ).all()
        if not batch:
            return
        for row in batch:
            yield list(row[1:])
        after = batch[-1][0]
