"""CSV/XLSX fuzz: malformed, binary, truncated, wrongly encoded and bomb-like files.

Every upload ends as a preview (201) or a clear JSON refusal (4xx with a message naming the file,
the row or the column), never a 5xx.  Every preview that can be committed is committed and its job
run by a real RQ worker: the Operation ends finished (succeeded or failed with a message), never
stuck in running.  Examples are derandomized so CI uploads the same files every run.
"""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provisioning import operations
from provisioning.models.operation import FINISHED_STATUSES
from provisioning.services import groups
from tests.support.api import upload
from tests.support.factories import ADMIN, make_users

# What a sheet can't hold at all (XML 1.0 §2.2): a real workbook never has these in a cell.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
FUZZ = settings(
    max_examples=60, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)

HEADERS = [
    ["email"],
    ["email_address", "first_name"],
    ["Email", "Groupname"],
    ["Groupname", "Email"],
    ["email", "first_name", "last_name", "role"],
    ["email", "Groupname", "Groupname"],
    [""],
    ["x", "y"],
]
EMAILS = ["ada@example.com", "ADA@example.com ", "alan@example.com", "nobody@example.com", "not an email", ""]
cell_text = st.one_of(
    st.sampled_from(
        EMAILS
        + [
            "=1+1",
            "+SUM(A1)",
            "@cmd",
            "-2",
            "'=x",
            "Maths",
            "é ü ç",
            "\u200b",
            "a\nb",
            'q"uote',
            "a,b;c\td|e",
            "\x00",
            "a\x00b",
            "\ud800",  # written as its (invalid) UTF-8 bytes ED A0 80 where the encoding allows
            "\udfff",
            "\ufffe",
            "\uffff",
            "x" * 5000,
        ]
    ),
    st.text(max_size=30),
)
rows = st.lists(st.lists(cell_text, min_size=0, max_size=5), max_size=12)
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "cp1252", "latin-1", "shift_jis", "koi8-r", "cp437"]


def _csv(header, body, delimiter) -> str:
    def line(cells):
        return delimiter.join(
            '"' + c.replace('"', '""') + '"' if any(ch in c for ch in ',;\t|"\n') else c for c in cells
        )

    return "\r\n".join(line(r) for r in [header, *body]) + "\r\n"


# Mostly-plausible files (a header the format knows, email-like cells), so many previews succeed
# and their jobs run; the rest of the strategies are there to break things.
plausible_rows = st.lists(
    st.lists(st.one_of(st.sampled_from(EMAILS), cell_text), min_size=1, max_size=4).map(
        lambda r: [r[0] if "@" in r[0] else "ada@example.com", *r[1:]]
    ),
    min_size=1,
    max_size=12,
)


@st.composite
def csv_files(draw) -> tuple[bytes, str]:
    plausible = draw(st.booleans())
    header = ["email", "first_name", "last_name"] if plausible else draw(st.sampled_from(HEADERS))
    text = _csv(header, draw(plausible_rows if plausible else rows), draw(st.sampled_from([",", ";", "\t", "|"])))
    if draw(st.booleans()):
        text = "sep=" + draw(st.sampled_from([",", ";", "x", ""])) + "\n" + text
    encoding = draw(st.sampled_from(ENCODINGS))
    try:  # lone surrogates become the bytes a broken exporter writes (UTF-8/16/32); elsewhere "?"
        data = text.encode(encoding, errors="surrogatepass")
    except UnicodeEncodeError:
        data = text.encode(encoding, errors="replace")
    mangle = "none" if plausible else draw(st.sampled_from(["none", "truncate", "flip", "splice-binary"]))
    if mangle == "truncate" and data:
        data = data[: draw(st.integers(0, len(data)))]
    elif mangle == "flip" and data:
        i = draw(st.integers(0, len(data) - 1))
        data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :]
    elif mangle == "splice-binary":
        i = draw(st.integers(0, len(data)))
        data = data[:i] + draw(st.binary(min_size=1, max_size=64)) + data[i:]
    return data, draw(st.sampled_from(["members.csv", "list.txt", "noextension", "weird.CSV"]))


def _xlsx(header, body) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in [header, *body]:
        # Control characters can't be stored in a sheet at all; formulas would be computed by Excel.
        sheet.append([XML_ILLEGAL.sub("", c) if not c.startswith("=") else "x" for c in row])
    if len(body) % 3 == 0:
        workbook.create_sheet("Second")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@st.composite
def xlsx_files(draw) -> tuple[bytes, str]:
    plausible = draw(st.booleans())
    header = ["email", "first_name", "last_name"] if plausible else draw(st.sampled_from(HEADERS))
    data = _xlsx(header, draw(plausible_rows if plausible else rows))
    mangle = "none" if plausible else draw(st.sampled_from(["none", "truncate", "flip", "drop-entry"]))
    # Positions are drawn as fractions: a saved workbook's length varies with its timestamp, and
    # hypothesis needs the same draws to mean the same thing on replay.
    if mangle == "truncate":
        data = data[: int(draw(st.floats(0, 1)) * len(data))]
    elif mangle == "flip":
        i = int(draw(st.floats(0, 1)) * (len(data) - 1))
        data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :]
    elif mangle == "drop-entry":
        source = zipfile.ZipFile(io.BytesIO(data))
        names = source.namelist()
        dropped = draw(st.sampled_from(names))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in names:
                if name != dropped:
                    archive.writestr(name, source.read(name))
        data = out.getvalue()
    return data, draw(st.sampled_from(["members.xlsx", "members.xlsm", "members.csv"]))


binary_files = st.tuples(st.binary(max_size=2048), st.sampled_from(["x.csv", "x.xlsx", "x.txt"]))
FORMS = [
    {"group_id": "target"},
    {"group_id": "target", "mode": "replace"},
    {"group_name": "Fuzzed"},
    {},
    {"format": "users"},
    {"format": "user-groups"},
    {"format": "group-users"},
    {"group_name": "Fuzzed", "mode": "replace", "all_or_nothing": True},
]


def assert_clear_outcome(client, tenant, rt, run_jobs, response):
    """A preview, or a JSON refusal with a message; a preview is committed and its job must finish."""
    assert response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.is_json, response.get_data(as_text=True)[:300]
    if response.status_code != 201:
        # 409: a group of that name was made by an earlier example; the message says to use its id.
        assert response.status_code in (400, 409, 413) and response.json["message"].strip(), response.json
        assert "Traceback" not in response.get_data(as_text=True)
        return
    r = client.post(f"/api/v1/imports/{response.json['id']}/commit", headers=tenant.admin)
    assert r.status_code < 500 and r.is_json, r.get_data(as_text=True)[:300]
    if r.status_code != 202:  # e.g. all_or_nothing with errors left: refused with a reason
        assert r.status_code in (400, 403, 409) and r.json["message"].strip(), r.json
        return
    run_jobs()
    operation = operations.get_operation(rt, tenant.id, r.json["operation_id"])
    assert operation.status in FINISHED_STATUSES, (operation.status, operation.result)
    if operation.status == "failed":
        assert operation.errors and "Traceback" not in str(operation.errors), operation.errors


@pytest.fixture
def people(rt, tenant):
    make_users(rt, tenant.id, "ada@example.com", "alan@example.com")
    return groups.create_group(rt, tenant.id, {"name": "Target"}, ADMIN).id


def _form(form: dict, target: int) -> dict:
    return {k: (target if v == "target" else v) for k, v in form.items()}


@pytest.mark.slow
def test_any_csv_or_text_file_is_previewed_or_refused_clearly_and_its_import_finishes(
    client, tenant, rt, run_jobs, people
):
    @FUZZ
    @given(file=st.one_of(csv_files(), binary_files), form=st.sampled_from(FORMS))
    def run(file, form):
        data, name = file
        assert_clear_outcome(client, tenant, rt, run_jobs, upload(client, tenant, data, name, **_form(form, people)))

    run()


@pytest.mark.slow
def test_any_xlsx_file_whole_truncated_or_damaged_is_previewed_or_refused_clearly_and_its_import_finishes(
    client, tenant, rt, run_jobs, people
):
    @settings(FUZZ, max_examples=40)
    @given(file=xlsx_files(), form=st.sampled_from(FORMS))
    def run(file, form):
        data, name = file
        assert_clear_outcome(client, tenant, rt, run_jobs, upload(client, tenant, data, name, **_form(form, people)))

    run()


def _workbook_with(member: str, content: bytes) -> bytes:
    """A workbook that is real apart from one member inflated to ``content``."""
    source = zipfile.ZipFile(io.BytesIO(_xlsx(["email"], [["ada@example.com"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():
            archive.writestr(name, content if name == member else source.read(name))
        if member not in source.namelist():
            archive.writestr(member, content)
    return out.getvalue()


@pytest.mark.parametrize(
    "member, content",
    [
        (
            "xl/sharedStrings.xml",
            b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            + b"<si><t>aaaaaaaa</t></si>" * 2_000_000
            + b"</sst>",
        ),
        ("xl/worksheets/sheet1.xml", b"<row/>" * 5_000_000),
        ("xl/padding.bin", b"\x00" * 40_000_000),
    ],
    ids=["huge sharedStrings", "huge sheet", "huge extra member"],
)
def test_an_xlsx_with_one_hugely_inflating_member_is_refused_as_a_zip_bomb(client, tenant, member, content):
    r = upload(client, tenant, _workbook_with(member, content), "innocent.xlsx", group_name="Boom")
    assert r.status_code == 400 and "zip bomb" in r.json["message"], r.json
    assert client.get("/api/v1/imports", headers=tenant.admin).json["total"] == 0


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"PK\x03\x04" + b"\x00" * 100, ".xlsx"),  # a zip signature and nothing else
        (b"PK\x05\x06" + b"\x00" * 18, ".xlsx"),  # an empty zip archive
        (b"\xef\xbb\xbf", "empty"),  # a BOM and nothing else
        (b"\xff\xfe" + "email\nada@example.com\n".encode("utf-16-le")[:-1], "utf-16"),  # UTF-16 cut mid-character
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(128, 256)) * 20, "text"),  # an image
    ],
)
def test_truncated_empty_and_binary_files_get_a_clear_message(client, tenant, data, expected):
    r = upload(client, tenant, data, "file.xlsx" if data.startswith(b"PK") else "file.csv", group_name="X")
    assert r.status_code == 400 and r.is_json, (r.status_code, r.get_data(as_text=True)[:300])
    assert expected in r.json["message"].lower() or expected in str(r.json.get("errors")).lower(), r.json


def test_a_workbook_whose_sheet_fails_its_checksum_midway_is_a_clear_400(client, tenant, people):
    # openpyxl reads the sheet through once when it opens the workbook, so the CRC is checked then.
    rows_xml = "".join(
        f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>u{i}@example.com</t></is></c></row>' for i in range(2, 2000)
    )
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>email</t></is></c></row>' + rows_xml + "</sheetData></worksheet>"
    ).encode()
    source = zipfile.ZipFile(io.BytesIO(_xlsx(["email"], [["ada@example.com"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name in source.namelist():
            archive.writestr(name, sheet if name == "xl/worksheets/sheet1.xml" else source.read(name))
    data = bytearray(out.getvalue())
    middle = data.index(b"u1000@example.com")
    data[middle] = ord("v")  # same length, so the archive opens; only the CRC-32 is now wrong
    r = upload(client, tenant, bytes(data), "crc.xlsx", group_id=people)
    assert r.status_code == 400 and "not a valid .xlsx" in r.json["message"], r.json
    assert "BadZipFile" in r.json["errors"]["file"][0]


def test_a_workbook_that_lists_no_sheet_is_a_clear_400_not_a_500(client, tenant, people):
    # Found by the fuzz: openpyxl opens a workbook.xml without <sheets> and yields no worksheet.
    workbook_xml = b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets/></workbook>'
    r = upload(client, tenant, _workbook_with("xl/workbook.xml", workbook_xml), "nosheet.xlsx", group_id=people)
    assert r.status_code == 400 and "no worksheet" in r.json["message"], r.json
