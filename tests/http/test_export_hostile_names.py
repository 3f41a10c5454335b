"""Every spreadsheet download with hostile names: the file opens (openpyxl, Excel's sheet-name rules),
the data is intact, and the Content-Disposition is a header any server can send (Latin-1, RFC 6266).

Before provisioning/exports.py cleaned sheet titles once for every export, a group named ``a/b`` or
``Q1: plan`` answered 500 on the XLSX download, and a member's control character did too.
"""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest

from tests.support.api import batch, commit_and_run, preview
from tests.support.factories import group_of_people, make_user

HOSTILE_NAMES = {
    "every forbidden character": "a/b\\c:d?e*f[g]h",
    "brackets only": "[]",
    "200 characters": "Long group " + "x" * 189,
    "emoji": "Team 🚀 launch 👩‍👩‍👧 " * 3,
    "rtl": "קבוצה א׳ / مجموعة: ١",
    "formula": "=cmd|' /C calc'!A0",
    "apostrophes": "'quoted'",
    "reserved": "History",
    "only forbidden": "/:?*",
}
# Excel's rules for a sheet name (openpyxl checks only these characters).
FORBIDDEN = re.compile(r"[\\/?*\[\]:]")
PEOPLE = [
    ("ada@example.com", "Ada 🚀", "ל/ו:ב"),
    ("bob@example.com", "=cmd|' /C calc'!A0", "[x]*?"),
]


def _excel_title_ok(title: str) -> bool:
    units = len(title.encode("utf-16-le")) // 2
    return (
        1 <= units <= 31
        and not FORBIDDEN.search(title)
        and not title.startswith("'")
        and not title.endswith("'")
        and title.casefold() != "history"
    )


def _latin1_header(value: str) -> None:
    value.encode("latin-1")  # what a WSGI server sends; a UnicodeEncodeError there is a 500
    assert re.match(r'attachment; filename="[A-Za-z0-9._-]+"', value), value


def _downloads(client, tenant, owner, group_id, extension):
    yield "api", client.get(f"/api/v1/groups/{group_id}/members.{extension}", headers=tenant.admin)
    yield "ui", owner.get(f"/ui/groups/{group_id}/members.{extension}")


@pytest.mark.parametrize("name", list(HOSTILE_NAMES.values()), ids=list(HOSTILE_NAMES))
def test_a_group_with_a_hostile_name_exports_as_xlsx_and_csv_files_that_open_with_their_data(
    client, tenant, rt, owner, name
):
    group = group_of_people(rt, tenant.id, PEOPLE, name=name)
    for where, r in _downloads(client, tenant, owner, group.id, "csv"):
        assert r.status_code == 200, where
        _latin1_header(r.headers["Content-Disposition"])
        rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
        assert rows[1][:3] == ["Ada 🚀", "ל/ו:ב", "ada@example.com"], where
    for where, r in _downloads(client, tenant, owner, group.id, "xlsx"):
        assert r.status_code == 200, (where, r.status_code, r.get_data(as_text=True)[:200])
        _latin1_header(r.headers["Content-Disposition"])
        workbook = openpyxl.load_workbook(io.BytesIO(r.data))
        (title,) = workbook.sheetnames
        assert _excel_title_ok(title), (where, title)
        rows = [[c.value for c in row] for row in workbook.worksheets[0].iter_rows()]
        assert rows[1][:3] == ["Ada 🚀", "ל/ו:ב", "ada@example.com"], where
        assert rows[2][:2] == ["'=cmd|' /C calc'!A0", "[x]*?"], where


def test_a_non_ascii_group_name_is_kept_in_the_utf8_file_name(client, tenant, rt, owner):
    group = group_of_people(rt, tenant.id, PEOPLE, name="Ünïcode Grüppe")
    for _, r in _downloads(client, tenant, owner, group.id, "xlsx"):
        disposition = r.headers["Content-Disposition"]
        _latin1_header(disposition)
        assert "filename*=UTF-8''%C3%9Cn%C3%AFcode-Gr%C3%BCppe-members.xlsx" in disposition, disposition


def test_control_characters_in_member_data_still_give_a_workbook_that_opens(client, tenant, rt, owner):
    # XML 1.0 can't carry C0 controls, U+FFFE or U+FFFF: openpyxl refused the first (a 500) and wrote
    # the others into a file no reader opened. They are shown as U+FFFD; the rest of the cell is kept.
    group = group_of_people(rt, tenant.id, [("c@example.com", "Tab\x01bed", "end\ufffe\uffff")], name="Ctl")
    for where, r in _downloads(client, tenant, owner, group.id, "xlsx"):
        assert r.status_code == 200, where
        rows = [[c.value for c in row] for row in openpyxl.load_workbook(io.BytesIO(r.data)).worksheets[0].iter_rows()]
        assert rows[1][:3] == ["Tab\ufffdbed", "end\ufffd\ufffd", "c@example.com"], where


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
@pytest.mark.parametrize("name", ["members", "user-groups", "group-users", "users", "enrollments"])
def test_every_import_template_downloads_and_opens(client, tenant, owner, name, extension):
    for r in (
        client.get(f"/api/v1/imports/templates/{name}.{extension}", headers=tenant.admin),
        owner.get(f"/ui/imports/templates/{name}.{extension}"),
    ):
        assert r.status_code == 200
        if extension == "xlsx":
            assert _excel_title_ok(openpyxl.load_workbook(io.BytesIO(r.data)).sheetnames[0])


def test_a_users_export_and_an_import_report_with_hostile_names_download_intact(client, tenant, rt, run_jobs):
    hostile = "a/b\\c:d?e*f[g]h 🚀 קבוצה =cmd|' /C calc'!A0"
    ann = make_user(rt, tenant.id, "ann", given_name=hostile)
    op_id = batch(client, tenant, "export_csv", user_ids=[ann.id]).json["operation_id"]
    run_jobs()
    r = client.get(f"/api/v1/operations/{op_id}/export.csv", headers=tenant.admin)
    assert r.status_code == 200
    _latin1_header(r.headers["Content-Disposition"])
    assert list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))[0]["given_name"] == hostile
    body = preview(client, tenant, f'email,first_name\nann@example.edu,"{hostile}"\n', group_name=hostile[:40])
    commit_and_run(client, tenant, run_jobs, rt, body["id"])
    r = client.get(f"/api/v1/imports/{body['id']}/report.csv", headers=tenant.admin)
    assert r.status_code == 200 and "2,applied,ann@example.edu" in r.get_data(as_text=True)
    _latin1_header(r.headers["Content-Disposition"])
