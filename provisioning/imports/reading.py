"""Bytes to rows: the file as real spreadsheet programs write it.

CSV and TXT: the encoding is found from a byte-order mark, else strict UTF-8, else
charset-normalizer; Excel's ``sep=;`` first line is honoured; otherwise the delimiter is
sniffed from the header.  XLSX: openpyxl in read-only (streaming) mode, after a check of
the archive against zip bombs.  Either way rows are yielded one at a time, so memory stays
flat however long the file is.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import IO

import charset_normalizer

from provisioning.errors import InvalidInput, LimitExceeded
from provisioning.exports import (
    FORMULA_STARTS,  # exports prefix these with "'"; imports drop the prefix
)
from provisioning.text import shown, text_problem

SAMPLE_BYTES = 1024 * 1024
DELIMITERS = (",", ";", "\t", "|")
# An XLSX is a zip; refuse archives that would expand beyond this, or at a ratio only a
# zip bomb reaches (real sheets compress 5-20x).
XLSX_MAX_UNCOMPRESSED = 2 * 1024 * 1024 * 1024
XLSX_MAX_RATIO = 200
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


@dataclass
class Table:
    """A parsed file: its header and a one-pass iterator over ``(row number, cells)``.

    Row numbers are what a spreadsheet shows: the header is row 1 (an Excel ``sep=`` line
    is not counted, as Excel hides it).
    """

    kind: str  # "csv" | "xlsx"
    encoding: str | None
    delimiter: str | None
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    warnings: list[str] = field(default_factory=list)


def clean_cell(value: str) -> str:
    """Trim whitespace (non-breaking spaces too) and invisible characters; undo formula escaping."""
    value = value.strip().strip(_INVISIBLE).strip()
    if value.startswith("'") and value[1:2] in FORMULA_STARTS and len(value) > 1:
        value = value[1:]
    return value.replace("\u00a0", " ")


def read_table(stream: IO[bytes], filename: str | None, *, max_rows: int) -> Table:
    """Open an uploaded file (CSV, TXT or XLSX) as a :class:`Table`; raises InvalidInput for what it can't read."""
    stream = _seekable(stream)
    head = stream.read(SAMPLE_BYTES)
    stream.seek(0)
    name = (filename or "").lower()
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InvalidInput(
            "This is an old Excel .xls file, which can't be read. Save it as .xlsx or CSV.",
            details={"file": ["Save the file as .xlsx or CSV (comma or semicolon separated)."]},
        )
    if head.startswith(b"PK\x03\x04") or name.endswith((".xlsx", ".xlsm")):
        return _read_xlsx(stream, max_rows=max_rows)
    if not head.strip():
        raise InvalidInput("The file is empty.", details={"file": ["The file is empty."]})
    encoding = detect_encoding(head)
    return _read_delimited(stream, encoding, max_rows=max_rows)


def _seekable(stream: IO[bytes]) -> IO[bytes]:
    if getattr(stream, "seekable", lambda: False)() and hasattr(stream, "readable"):
        return stream
    return io.BytesIO(stream.read())


# --- CSV / TXT -------------------------------------------------------------------------------


def detect_encoding(sample: bytes) -> str:
    """The encoding of a text file from its first bytes."""
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if sample.startswith(bom):
            return name
    try:
        # The sample may end inside a multi-byte character: an incremental decoder keeps it pending.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if b"\x00" not in sample and _is_western(sample):
        # Excel on Western Windows saves "CSV" in cp1252.  charset-normalizer often ranks cp1250
        # first for short Western text (both map é, ü, ç alike), so prefer cp1252 whenever every
        # non-ASCII character it yields is Latin-1/Latin Extended-A or typographic punctuation
        # and accents are a minority of the letters.
        return "cp1252"
    best = charset_normalizer.from_bytes(sample).best()
    if best is None:
        raise InvalidInput(
            "The file is not a text file we can read. Upload CSV, TXT or XLSX.",
            details={"file": ["Could not determine the file's text encoding; save it as UTF-8 CSV."]},
        )
    return best.encoding


def _is_western(sample: bytes) -> bool:
    try:
        text = sample.decode("cp1252")
    except UnicodeDecodeError:
        return False
    if not all(ord(c) < 0x80 or 0xA0 <= ord(c) <= 0x17F or c in "€‘’‚“”„–—…•™" for c in text):
        return False
    # Western text is mostly ASCII letters with a few accents; Cyrillic or Greek bytes read as
    # cp1252 turn into runs of accented letters.
    letters = [c for c in text if c.isalpha()]
    return sum(ord(c) >= 0x80 for c in letters) <= 0.3 * max(len(letters), 1)


def _read_delimited(stream: IO[bytes], encoding: str, *, max_rows: int) -> Table:
    # A byte the encoding can't decode becomes a lone surrogate (U+DC80-U+DCFF) in its cell, which
    # validation reports as an error row naming row and column (provisioning/imports/validate.py).
    text = io.TextIOWrapper(stream, encoding=encoding, newline="", errors="surrogateescape")
    warnings: list[str] = []
    first = _next_line(text, encoding)
    delimiter = None
    stripped = first.strip().strip(_INVISIBLE).strip('"').lower()
    if stripped.startswith("sep=") and len(stripped) == 5:
        delimiter = first.strip().strip(_INVISIBLE).strip('"')[4]
        first = _next_line(text, encoding)  # not a spreadsheet row: Excel hides it, numbering ignores it
    if delimiter is None:
        delimiter = sniff_delimiter(first)
    reader = csv.reader(_chain_first(first, text), delimiter=delimiter, strict=False)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise InvalidInput(
            "The file has no header row.", details={"file": ["The first row must be the header."]}
        ) from exc
    header = checked_header([clean_cell(h) for h in header])
    return Table("csv", _display(encoding), delimiter, header, _csv_rows(reader, encoding, max_rows), warnings)


def checked_header(header: list[str]) -> list[str]:
    """The header row, refused as a whole when a name holds a NUL or an undecodable byte (nothing could be matched)."""
    for column, name in enumerate(header, start=1):
        problem = text_problem(name)
        if problem is not None:
            raise InvalidInput(
                f"The header row's column {column} ({shown(name)!r}) {problem}. Save the file as UTF-8 CSV or XLSX.",
                details={"file": [f"Header column {column} {problem}."]},
            )
    return header


def _display(encoding: str) -> str:
    return {"utf-8-sig": "utf-8-sig", "utf-16": "utf-16", "utf-32": "utf-32"}.get(
        encoding, codecs.lookup(encoding).name
    )


def _next_line(text: io.TextIOWrapper, encoding: str) -> str:
    try:
        return text.readline()
    except UnicodeDecodeError as exc:
        raise _decode_error(encoding, 1) from exc


def _chain_first(first: str, text: io.TextIOWrapper) -> Iterator[str]:
    yield first
    yield from text


def sniff_delimiter(header_line: str) -> str:
    """The delimiter that splits the header line into the most fields (comma when none does)."""
    best, best_count = ",", 1
    for candidate in DELIMITERS:
        try:
            count = len(next(csv.reader([header_line], delimiter=candidate)))
        except (csv.Error, StopIteration):
            continue
        if count > best_count:
            best, best_count = candidate, count
    return best


def _csv_rows(reader, encoding: str, max_rows: int) -> Iterator[tuple[int, list[str]]]:
    row_no = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise _decode_error(encoding, row_no + 1) from exc
        except csv.Error as exc:
            raise InvalidInput(
                f"Row {row_no + 1} can't be read: {exc}.", details={f"row {row_no + 1}": [str(exc)]}
            ) from exc
        row_no += 1
        yield row_no, [clean_cell(c) for c in cells]
        check_row_limit(row_no - 1, max_rows)


def _decode_error(encoding: str, row_no: int) -> InvalidInput:
    return InvalidInput(
        f"The file is not valid {encoding} text near row {row_no}. Save it as UTF-8 CSV.",
        details={"file": [f"Could not decode row {row_no} as {encoding}."]},
    )


def check_row_limit(data_rows: int, max_rows: int) -> None:
    if data_rows > max_rows:
        raise LimitExceeded(
            f"The file has more than {max_rows:,} rows, the most one import may have. Split it into smaller files.",
            limit="rows",
        )


# --- XLSX ------------------------------------------------------------------------------------


def check_zip_bomb(stream: IO[bytes]) -> None:
    """Refuse an archive that expands too far, before openpyxl inflates any of it."""
    try:
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInput(
            "The file is not a valid .xlsx workbook.",
            details={"file": ["Not a valid .xlsx file (the archive can't be opened)."]},
        ) from exc
    finally:
        stream.seek(0)
    total = sum(i.file_size for i in infos)
    compressed = sum(i.compress_size for i in infos) or 1
    worst = max((i.file_size / max(i.compress_size, 1) for i in infos if i.file_size > 1024 * 1024), default=0)
    if total > XLSX_MAX_UNCOMPRESSED or worst > XLSX_MAX_RATIO or total / compressed > XLSX_MAX_RATIO:
        raise InvalidInput(
            f"The .xlsx file expands to {total / 1024 / 1024:,.0f} MB ({total / compressed:,.0f}x its size); "
            "it was refused as a possible zip bomb. Save it as CSV instead.",
            details={"file": ["Refused: the workbook expands too much to be a real spreadsheet."]},
        )


def _read_xlsx(stream: IO[bytes], *, max_rows: int) -> Table:
    import openpyxl

    check_zip_bomb(stream)
    try:
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise InvalidInput(
            "The file is not a valid .xlsx workbook.",
            details={"file": [f"Could not open the workbook ({type(exc).__name__})."]},
        ) from exc
    if not workbook.worksheets:
        raise InvalidInput("The .xlsx workbook has no worksheet.", details={"file": ["The workbook has no sheet."]})
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    try:
        header = checked_header([clean_cell(_cell_text(v)) for v in next(rows)])
    except StopIteration as exc:
        raise InvalidInput("The workbook's first sheet is empty.", details={"file": ["No header row."]}) from exc
    while header and not header[-1]:
        header.pop()
    warnings = []
    if len(workbook.worksheets) > 1:
        warnings.append(
            f"Only the first sheet ({sheet.title!r}) was read; the workbook has {len(workbook.worksheets)} sheets."
        )
    return Table("xlsx", None, None, header, _xlsx_rows(workbook, rows, len(header), max_rows), warnings)


def _xlsx_rows(workbook, rows, width: int, max_rows: int) -> Iterator[tuple[int, list[str]]]:
    try:
        for row_no, values in enumerate(rows, start=2):
            cells = [clean_cell(_cell_text(v)) for v in values]
            # A sheet has no ragged rows: cells are padded to the header, extra empty ones dropped.
            while len(cells) > width and not cells[-1]:
                cells.pop()
            cells.extend([""] * (width - len(cells)))
            yield row_no, cells
            check_row_limit(row_no - 1, max_rows)
    finally:
        workbook.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)
