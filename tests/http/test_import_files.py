"""Real files: encodings, Excel's quirks, delimiters, quoting, line ends and whitespace, through the API."""

import codecs
import io

import pytest

from provisioning.imports.reading import detect_encoding, read_table
from provisioning.services import groups
from tests.support.api import preview
from tests.support.factories import ADMIN, make_users

NAMES = "email;FirstName;LastName\r\nzoe@example.com;Zoé;Müller\r\nfrancois@example.com;François;Lefèvre\r\n"


@pytest.fixture
def maths(rt, tenant):
    make_users(rt, tenant.id, "zoe@example.com", "francois@example.com")
    return groups.create_group(rt, tenant.id, {"name": "Maths"}, ADMIN)


@pytest.mark.parametrize(
    "encoding, raw, expected",
    [
        ("utf-8", NAMES.encode("utf-8"), "utf-8"),
        ("utf-8 with BOM", codecs.BOM_UTF8 + NAMES.encode("utf-8"), "utf-8-sig"),
        ("utf-16 LE with BOM, as Excel writes 'Unicode text'", NAMES.replace(";", "\t").encode("utf-16"), "utf-16"),
        ("cp1252 with accents", NAMES.encode("cp1252"), "cp1252"),
    ],
)
def test_each_encoding_is_detected_and_its_accents_survive(client, tenant, rt, maths, encoding, raw, expected):
    body = preview(client, tenant, raw, group_id=maths.id)
    assert body["encoding"] == expected, encoding
    assert body["users_matched"] == 2 and body["errors"] == [], body["errors"]
    table = read_table(io.BytesIO(raw), "x.csv", max_rows=10)
    assert [cells for _, cells in table.rows] == [
        ["zoe@example.com", "Zoé", "Müller"],
        ["francois@example.com", "François", "Lefèvre"],
    ]


def test_excel_sep_line_sets_the_delimiter_and_is_not_a_row(client, tenant, rt, maths):
    raw = "sep=;\r\nEmail;First name\r\nzoe@example.com;Zoé\r\nnobody@example.com;X\r\n".encode("cp1252")
    body = preview(client, tenant, raw, group_id=maths.id)
    assert body["delimiter"] == ";" and body["users_matched"] == 1
    assert [e["row"] for e in body["errors"]] == [3]  # header is row 1; the sep= line is not counted


@pytest.mark.parametrize("delimiter", [";", "\t", ",", "|"])
def test_the_delimiter_is_sniffed_from_the_header(client, tenant, rt, maths, delimiter):
    raw = (
        delimiter.join(["email_address", "first_name", "last_name"])
        + "\n"
        + delimiter.join(["zoe@example.com", "Zoé", "M"])
        + "\n"
    )
    body = preview(client, tenant, raw, filename="list.txt", group_id=maths.id)
    assert body["delimiter"] == delimiter and body["users_matched"] == 1 and body["errors"] == []


def test_quoted_fields_keep_embedded_newlines_and_delimiters(rt):
    raw = b'email,first_name,last_name\r\nzoe@example.com,"Zo\xc3\xa9, ""Z""","M\xc3\xbcller\r\nthe second"\r\nfrancois@example.com,F,L\r\n'
    table = read_table(io.BytesIO(raw), "x.csv", max_rows=10)
    rows = list(table.rows)
    assert rows == [
        (2, ["zoe@example.com", 'Zoé, "Z"', "Müller\r\nthe second"]),
        (3, ["francois@example.com", "F", "L"]),
    ]


def test_whitespace_and_non_breaking_spaces_are_trimmed(client, tenant, rt, maths):
    raw = "\u00a0Email \u00a0, First name\n \u00a0zoe@example.com\u00a0 ,\u00a0Zoé \n\tFRANCOIS@Example.com\t,F\n"
    body = preview(client, tenant, raw, group_id=maths.id)
    assert body["users_matched"] == 2 and body["errors"] == []


def test_lf_and_crlf_line_ends_read_the_same(rt):
    lf = read_table(io.BytesIO(b"email\na@x.org\nb@x.org\n"), "x.csv", max_rows=10)
    crlf = read_table(io.BytesIO(b"email\r\na@x.org\r\nb@x.org\r\n"), "x.csv", max_rows=10)
    assert list(lf.rows) == list(crlf.rows) == [(2, ["a@x.org"]), (3, ["b@x.org"])]


def test_encoding_detection_prefers_boms_then_utf8_then_western_windows():
    assert detect_encoding(codecs.BOM_UTF16_LE + "a".encode("utf-16-le")) == "utf-16"
    assert detect_encoding("Zoé".encode()) == "utf-8"
    assert detect_encoding("José Müller".encode("cp1252")) == "cp1252"
    assert detect_encoding("Привет, мир. Это тестовая строка".encode("cp1251")) != "cp1252"


def test_an_old_xls_or_a_binary_file_is_refused_clearly(client, tenant, rt, maths):
    from tests.support.api import upload

    r = upload(
        client, tenant, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, filename="old.xls", group_id=maths.id
    )
    assert r.status_code == 400 and ".xls" in r.json["message"]
    r = upload(client, tenant, b"", group_id=maths.id)
    assert r.status_code == 400 and "empty" in r.json["message"]
    r = upload(client, tenant, "email\n", group_id=maths.id)
    assert r.status_code == 400 and "no data rows" in r.json["message"]
