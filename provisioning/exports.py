"""Spreadsheet output: CSV lines and XLSX workbooks written row by row, safe to open in Excel.

Cells starting with ``= + - @``, a tab or a carriage return are prefixed with ``'`` so a
spreadsheet shows them as text instead of running them as formulas (OWASP "CSV injection").
Imports drop that prefix again, so an export re-imports unchanged.

Names become sheet titles and file names here, once, for every download: :func:`sheet_title`
makes any group name a title Excel opens, :func:`attachment` a Content-Disposition any browser
and any WSGI server takes.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import Select, select, text

from provisioning.models import Membership, User
from provisioning.runtime import Runtime
from provisioning.store.groups import load_group

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MEMBER_HEADER = ["First name", "Last name", "Email", "Username", "Status", "Last login", "Source"]
CHUNK = 1000
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Excel's rules for a worksheet name (openpyxl enforces only the characters): at most 31 characters
# counted in UTF-16 units, none of \ / ? * [ ] :, no apostrophe first or last, not "History"
# (Excel reserves it for change tracking), and unique in the workbook regardless of case.
SHEET_TITLE_MAX = 31
SHEET_TITLE_FORBIDDEN = re.compile(r"[\\/?*\[\]:]")
SHEET_TITLE_RESERVED = frozenset({"history"})
# What XML 1.0 (§2.2, "Char") can't carry: openpyxl refuses the C0 controls and writes U+FFFE/U+FFFF
# into a file no reader opens. Shown as U+FFFD REPLACEMENT CHARACTER instead.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def escape_cell(value: Any) -> str:
    """The text of a cell, made inert for spreadsheet programs."""
    if type(value) is str:  # most cells: the fast path of an export's million cells
        return "'" + value if value.startswith(FORMULA_STARTS) else value
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


def csv_text(rows: Iterable[Iterable[Any]]) -> str:
    """Rows as CSV text without a header (escaped like :func:`csv_lines`), for exports written in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([escape_cell(v) for v in row])
    return buffer.getvalue()


def xml_text(text: str) -> str:
    """``text`` with the characters XML 1.0 can't hold replaced by U+FFFD (everything else kept)."""
    return NOT_XML.sub("\ufffd", text)


def sheet_title(name: str, taken: Iterable[str] = ()) -> str:
    """A worksheet title Excel and openpyxl accept for ``name``, unique (case-insensitively) among ``taken``."""
    title = SHEET_TITLE_FORBIDDEN.sub("_", xml_text(name)).strip()
    title = _utf16_cut(title, SHEET_TITLE_MAX).strip().strip("'").strip() or "Sheet"
    if title.casefold() in SHEET_TITLE_RESERVED:
        title = f"{title}_"
    used = {t.casefold() for t in taken}
    candidate, n = title, 1
    while candidate.casefold() in used:
        n += 1
        suffix = f" ({n})"
        candidate = _utf16_cut(title, SHEET_TITLE_MAX - len(suffix)).rstrip().rstrip("'") + suffix
    return candidate


def _utf16_cut(text: str, units: int) -> str:
    """The longest prefix of ``text`` of at most ``units`` UTF-16 code units (Excel's length), whole characters."""
    out, used = [], 0
    for char in text:
        used += 2 if ord(char) > 0xFFFF else 1
        if used > units:
            break
        out.append(char)
    return "".join(out)


def xlsx_file(
    header: list[str], rows: Iterable[Iterable[Any]], *, title: str = "Sheet1"
) -> tempfile.SpooledTemporaryFile:
    """A one-sheet workbook (see :func:`xlsx_workbook`); ``title`` may be any text, a group's name."""
    return xlsx_workbook([(title, header, rows)])


def xlsx_workbook(
    sheets: Iterable[tuple[str, list[str], Iterable[Iterable[Any]]]],
) -> tempfile.SpooledTemporaryFile:
    """Write (name, header, rows) sheets with openpyxl's write-only mode (rows go to disk as they come).

    Each name passes through :func:`sheet_title`, so two names that clean to the same title still
    get two sheets. Returns the file, rewound.
    """
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    titles: list[str] = []
    for name, header, rows in sheets:
        titles.append(sheet_title(name, titles))
        sheet = workbook.create_sheet(titles[-1])
        sheet.append([xml_text(h) for h in header])
        for row in rows:
            sheet.append([xml_text(escape_cell(v)) for v in row])
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    workbook.save(out)
    out.seek(0)
    return out


def attachment(name: str, suffix: str, fallback: str = "export") -> str:
    """A Content-Disposition for a download named after ``name`` (a group's name, any text).

    ``filename`` is an ASCII fallback (header values are Latin-1 on the wire, and a WSGI server
    refuses anything else); ``filename*`` carries the name in UTF-8 for browsers (RFC 6266 §4.3,
    RFC 8187).
    """
    cleaned = xml_text(name).replace("\ufffd", "")
    readable = re.sub(r"[^\w.-]+", "-", cleaned).strip("-._")[:80] or fallback
    ascii_name = unicodedata.normalize("NFKD", readable).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_name).strip("-._") or fallback
    header = f'attachment; filename="{ascii_name}{suffix}"'
    if ascii_name != readable:
        header += f"; filename*=UTF-8''{quote(readable + suffix, safe='')}"
    return header


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
    """Members of a group in user-id order, streamed so memory stays flat.

    On PostgreSQL one query read through a server-side cursor, planned without nested loops: right
    after a bulk load the statistics may say the group has one member, and a nested loop planned on
    that estimate (a scan of the users for each member) took a 50,000-member export 12 minutes
    (issue 18).  A hash join costs one pass over the group's members and the tenant's users whatever
    the estimates.  Elsewhere (SQLite) keyset chunks of CHUNK rows.
    """
    if rt.db.dialect == "postgresql":
        yield from streamed_rows(rt, _member_query(tenant_id, group_id).order_by(Membership.user_id))
        return
    after = 0
    while True:
        with rt.db.read() as s:
            batch = s.execute(
                _member_query(tenant_id, group_id).where(User.id > after).order_by(User.id).limit(CHUNK)
            ).all()
        if not batch:
            return
        for row in batch:
            yield list(row[1:])
        after = batch[-1][0]


def streamed_rows(rt: Runtime, query: Select) -> Iterator[list[Any]]:
    """The rows of ``query`` on PostgreSQL but its first column (a keyset id), read through a server-side
    cursor in chunks of CHUNK and planned without nested loops (see :func:`member_rows`)."""
    # A transaction (reads elsewhere run in autocommit): SET LOCAL and the cursor need one; it writes nothing.
    with rt.db.transaction() as s:
        s.execute(text("SET LOCAL enable_nestloop = off"))
        # Core, not the ORM: plain rows, without the per-row work of an ORM result.
        result = s.connection().execute(query, execution_options={"stream_results": True, "yield_per": CHUNK})
        for part in result.partitions():
            for row in part:
                yield list(row[1:])


def _member_query(tenant_id: int, group_id: int) -> Select:
    return (
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
        .where(Membership.group_id == group_id, Membership.tenant_id == tenant_id, User.tenant_id == tenant_id)
    )
