"""Bytes to rows: the file as real spreadsheet programs write it.

CSV and TXT: the encoding is found from a byte-order mark, else strict UTF-8, else
charset-normalizer; Excel's ``sep=;`` first line is honoured; otherwise the delimiter is
sniffed from the header.  XLSX: openpyxl in read-only (streaming) mode, after a check of
the archive against zip bombs.  Either way rows are yielded one at a time, so memory stays
flat however long the file is.

Files as people make them have blank rows or a title above the header, and workbooks an
instructions sheet before the data.  Given ``is_header`` (what the import formats recognise,
see ``provisioning.imports.formats.header_matches``), the header is the first row of the first
:data:`HEADER_SCAN` rows that it accepts, on the first sheet that has one; only those few rows
are held while looking.  Without a match the first non-blank row of the first sheet is the
header, and the format detection says what is wrong with it.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import IO
from urllib.parse import unquote

import charset_normalizer

from provisioning.errors import InvalidInput, LimitExceeded
from provisioning.exports import (
    FORMULA_STARTS,  # exports prefix these with "'"; imports drop the prefix
)
from provisioning.i18n import N_, Message
from provisioning.text import shown, text_problem

SAMPLE_BYTES = 1024 * 1024
DELIMITERS = (",", ";", "\t", "|")
# An XLSX is a zip; refuse archives that would expand beyond this, or at a ratio only a
# zip bomb reaches (real sheets compress 5-20x).
XLSX_MAX_UNCOMPRESSED = 2 * 1024 * 1024 * 1024
XLSX_MAX_RATIO = 200
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
HEADER_SCAN = 10  # rows of each sheet looked at for the header row
HeaderTest = Callable[[list[str]], bool]


@dataclass
class Table:
    """A parsed file: its header and a one-pass iterator over ``(row number, cells)``.

    Row numbers are what a spreadsheet shows: the header is row ``header_row`` (1 unless
    rows above it were skipped; an Excel ``sep=`` line is not counted, as Excel hides it).
    ``sheet``: the worksheet read (XLSX only).
    """

    kind: str  # "csv" | "xlsx"
    encoding: str | None
    delimiter: str | None
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    warnings: list[str] = field(default_factory=list)
    header_row: int = 1
    sheet: str | None = None
    header_found: bool = True  # False: no row passed ``is_header``; the header is the first filled row

    def where(self) -> str:
        """Where the header was found, in words."""
        if self.sheet is not None:
            return Message(N_("row %(row)s of the sheet %(sheet)r"), row=self.header_row, sheet=self.sheet)
        return Message(N_("row %(row)s"), row=self.header_row)


def find_header(rows: list[list[str]], is_header: HeaderTest | None) -> int | None:
    """The index of the header among a sheet's first rows (cleaned cells): the first that ``is_header`` accepts."""
    if is_header is None:
        return 0 if rows else None
    return next((i for i, cells in enumerate(rows) if any(cells) and is_header(cells)), None)


def leading_blanks(header: list[str]) -> int:
    """How many empty columns come before the header's first name (a table drawn from column B on):
    they are dropped from the header and every row, as they name nothing to import."""
    return next((i for i, name in enumerate(header) if name), 0)


def first_filled(rows: list[list[str]]) -> int:
    """The fallback header: the first non-blank row (0 when all are blank)."""
    return next((i for i, cells in enumerate(rows) if any(cells)), 0)


def clean_cell(value: str) -> str:
    """Trim whitespace (non-breaking spaces too) and invisible characters; undo formula escaping; an email
    pasted as a link reads as the bare address (:func:`bare_address`)."""
    value = value.strip().strip(_INVISIBLE).strip()
    if value.startswith("'") and value[1:2] in FORMULA_STARTS and len(value) > 1:
        value = value[1:]
    return bare_address(value.replace("\u00a0", " "))


def bare_address(value: str) -> str:
    """``mailto:ann@example.com?subject=Hi`` (any case, RFC 6068) as ``ann@example.com``; anything else as it is.

    The group-managers article's tip c warns against emails "added as links": a cell copied from a web
    page or an email program, or an Excel hyperlink cell that openpyxl reads as its target, holds the link
    rather than the address.  Its query (subject, body...) and fragment are dropped, %-escapes decoded.
    (XLSX is read in streaming mode, which does not load hyperlinks: a link cell whose text is the address,
    Excel's own, already reads as the address.)"""
    if value[:7].lower() != "mailto:":
        return value
    address = unquote(value[7:].split("?", 1)[0].split("#", 1)[0]).strip()
    return address or value  # "mailto:" alone stays, to be refused as no address by its row


def read_table(stream: IO[bytes], filename: str | None, *, max_rows: int, is_header: HeaderTest | None = None) -> Table:
    """Open an uploaded file (CSV, TXT or XLSX) as a :class:`Table`; raises InvalidInput for what it can't read.

    ``is_header`` (cleaned cells -> bool) finds the header row and sheet; without it the first row is the header.
    """
    stream = _seekable(stream)
    head = stream.read(SAMPLE_BYTES)
    stream.seek(0)
    name = (filename or "").lower()
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InvalidInput(
            N_("This is an old Excel .xls file, which can't be read. Save it as .xlsx or CSV."),
            details={"file": [N_("Save the file as .xlsx or CSV (comma or semicolon separated).")]},
        )
    if head.startswith(b"PK\x03\x04") or name.endswith((".xlsx", ".xlsm")):
        return _read_xlsx(stream, max_rows=max_rows, is_header=is_header)
    if not head.strip():
        raise InvalidInput(N_("The file is empty."), details={"file": [N_("The file is empty.")]})
    encoding = detect_encoding(head)
    return _read_delimited(stream, encoding, max_rows=max_rows, is_header=is_header)


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
            N_("The file is not a text file we can read. Upload CSV, TXT or XLSX."),
            details={"file": [N_("Could not determine the file's text encoding; save it as UTF-8 CSV.")]},
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


def _read_delimited(stream: IO[bytes], encoding: str, *, max_rows: int, is_header: HeaderTest | None) -> Table:
    # A byte the encoding can't decode becomes a lone surrogate (U+DC80-U+DCFF) in its cell, which
    # validation reports as an error row naming row and column (provisioning/imports/validate.py).
    text = io.TextIOWrapper(stream, encoding=encoding, newline="", errors="surrogateescape")
    first = _next_line(text, encoding)
    delimiter = None
    stripped = first.strip().strip(_INVISIBLE).strip('"').lower()
    if stripped.startswith("sep=") and len(stripped) == 5:
        delimiter = first.strip().strip(_INVISIBLE).strip('"')[4]
        first = _next_line(text, encoding)  # not a spreadsheet row: Excel hides it, numbering ignores it
    # The first lines, each split with its own delimiter (a title line has none): the header is among them.
    lines = [first]
    while len(lines) < HEADER_SCAN and lines[-1]:
        lines.append(_next_line(text, encoding))
    lines = lines[:1] + [line for line in lines[1:] if line]  # readline's "" at the end is no row
    found = find_header([_split(line, delimiter or sniff_delimiter(line)) for line in lines], is_header)
    at = first_filled([_split(line, ",") for line in lines]) if found is None else found
    header_line = lines[at] if lines else ""
    delimiter = delimiter or sniff_delimiter(header_line)
    reader = csv.reader(_chain(lines[at:], text), delimiter=delimiter, strict=False)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise InvalidInput(
            N_("The file has no header row."), details={"file": [N_("The first row must be the header.")]}
        ) from exc
    header = checked_header([clean_cell(h) for h in header])
    lead = leading_blanks(header)
    header = header[lead:]
    rows = _csv_rows(reader, encoding, max_rows, header_row=at + 1, lead=lead)
    return Table("csv", _display(encoding), delimiter, header, rows, header_row=at + 1, header_found=found is not None)


def _split(line: str, delimiter: str) -> list[str]:
    try:
        return [clean_cell(c) for c in next(csv.reader([line], delimiter=delimiter), [])]
    except csv.Error:
        return []


def checked_header(header: list[str]) -> list[str]:
    """The header row, refused as a whole when a name holds a NUL or an undecodable byte (nothing could be matched)."""
    for column, name in enumerate(header, start=1):
        problem = text_problem(name)
        if problem is not None:
            raise InvalidInput(
                N_("The header row's column %(column)s (%(name)r) %(problem)s. Save the file as UTF-8 CSV or XLSX."),
                details={
                    "file": [Message(N_("Header column %(column)s %(problem)s."), column=column, problem=problem)]
                },
                column=column,
                name=shown(name),
                problem=problem,
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


def _chain(lines: list[str], text: io.TextIOWrapper) -> Iterator[str]:
    yield from lines
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


def _csv_rows(reader, encoding: str, max_rows: int, *, header_row: int, lead: int) -> Iterator[tuple[int, list[str]]]:
    row_no = header_row
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise _decode_error(encoding, row_no + 1) from exc
        except csv.Error as exc:
            raise InvalidInput(
                N_("Row %(row)s can't be read: %(problem)s."),
                details={f"row {row_no + 1}": [str(exc)]},
                row=row_no + 1,
                problem=exc,
            ) from exc
        row_no += 1
        yield row_no, [clean_cell(c) for c in cells[lead:]]
        check_row_limit(row_no - header_row, max_rows)


def _decode_error(encoding: str, row_no: int) -> InvalidInput:
    return InvalidInput(
        N_("The file is not valid %(encoding)s text near row %(row_no)s. Save it as UTF-8 CSV."),
        details={
            "file": [Message(N_("Could not decode row %(row_no)s as %(encoding)s."), row_no=row_no, encoding=encoding)]
        },
        encoding=encoding,
        row_no=row_no,
    )


def check_row_limit(data_rows: int, max_rows: int) -> None:
    if data_rows > max_rows:
        raise LimitExceeded(
            N_("The file has more than %(max_rows)s rows, the most one import may have. Split it into smaller files."),
            limit="rows",
            max_rows=f"{max_rows:,}",
        )


# --- XLSX ------------------------------------------------------------------------------------


def check_zip_bomb(stream: IO[bytes]) -> None:
    """Refuse an archive that expands too far, before openpyxl inflates any of it."""
    try:
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInput(
            N_("The file is not a valid .xlsx workbook."),
            details={"file": [N_("Not a valid .xlsx file (the archive can't be opened).")]},
        ) from exc
    finally:
        stream.seek(0)
    total = sum(i.file_size for i in infos)
    compressed = sum(i.compress_size for i in infos) or 1
    worst = max((i.file_size / max(i.compress_size, 1) for i in infos if i.file_size > 1024 * 1024), default=0)
    if total > XLSX_MAX_UNCOMPRESSED or worst > XLSX_MAX_RATIO or total / compressed > XLSX_MAX_RATIO:
        raise InvalidInput(
            N_(
                "The .xlsx file expands to %(size)s MB (%(ratio)sx its size); it was refused as a possible zip bomb. "
                "Save it as CSV instead."
            ),
            details={"file": [N_("Refused: the workbook expands too much to be a real spreadsheet.")]},
            size=f"{total / 1024 / 1024:,.0f}",
            ratio=f"{total / compressed:,.0f}",
        )


def _read_xlsx(stream: IO[bytes], *, max_rows: int, is_header: HeaderTest | None) -> Table:
    import openpyxl

    check_zip_bomb(stream)
    try:
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise InvalidInput(
            N_("The file is not a valid .xlsx workbook."),
            details={"file": [Message(N_("Could not open the workbook (%(kind)s)."), kind=type(exc).__name__)]},
        ) from exc
    if not workbook.worksheets:
        raise InvalidInput(
            N_("The .xlsx workbook has no worksheet."), details={"file": [N_("The workbook has no sheet.")]}
        )
    chosen, found = None, None
    for sheet in workbook.worksheets:  # the first sheet whose first rows hold a header the formats know
        rows = sheet.iter_rows(values_only=True)
        scanned = [[clean_cell(_cell_text(v)) for v in values] for values in itertools.islice(rows, HEADER_SCAN)]
        found = find_header(scanned, is_header)
        if found is not None:
            chosen = sheet, rows, scanned, found
            break
        if is_header is None:  # no test: the first sheet's first row, as ever
            break
    if chosen is None:  # nothing recognised: the first sheet's first filled row, for detection to explain
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        scanned = [[clean_cell(_cell_text(v)) for v in values] for values in itertools.islice(rows, HEADER_SCAN)]
        chosen = sheet, rows, scanned, first_filled(scanned)
    sheet, rows, scanned, at = chosen
    if not scanned:
        workbook.close()
        raise InvalidInput(N_("The workbook's first sheet is empty."), details={"file": [N_("No header row.")]})
    header = checked_header(list(scanned[at]))
    lead = leading_blanks(header)
    header = header[lead:]
    while header and not header[-1]:
        header.pop()
    warnings: list[str] = []
    if len(workbook.worksheets) > 1:
        others = [w.title for w in workbook.worksheets if w is not sheet]
        warnings.append(
            Message(
                N_("Only the sheet %(sheet)r was read; the other sheets (%(others)s) were not."),
                sheet=sheet.title,
                others=", ".join(repr(t) for t in others),
            )
        )
    # The rows after the header: those already scanned, then the rest of the sheet, streamed.
    rest = itertools.chain(scanned[at + 1 :], ([clean_cell(_cell_text(v)) for v in values] for values in rows))
    table_rows = _xlsx_rows(workbook, rest, len(header), max_rows, header_row=at + 1, lead=lead)
    return Table(
        "xlsx",
        None,
        None,
        header,
        table_rows,
        warnings,
        header_row=at + 1,
        sheet=sheet.title,
        header_found=found is not None,
    )


def _xlsx_rows(
    workbook, rows, width: int, max_rows: int, *, header_row: int, lead: int
) -> Iterator[tuple[int, list[str]]]:
    try:
        for row_no, cells in enumerate(rows, start=header_row + 1):
            cells = cells[lead:]
            # A sheet has no ragged rows: cells are padded to the header, extra empty ones dropped.
            while len(cells) > width and not cells[-1]:
                cells.pop()
            cells.extend([""] * (width - len(cells)))
            yield row_no, cells
            check_row_limit(row_no - header_row, max_rows)
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
