"""Limits and file types: upload size, row count, XLSX (and zip bombs), .txt, and the templates."""

import csv
import io
import zipfile

import openpyxl
import pytest

from provisioning.services import groups
from tests.support.api import commit_and_run, preview, upload
from tests.support.factories import ADMIN, make_users, member_emails


def _xlsx(rows) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_a_file_over_the_size_limit_is_a_413_with_a_json_message(client, app, tenant, rt):
    app.config["MAX_CONTENT_LENGTH"] = 2000
    r = upload(client, tenant, "email\n" + "someone@example.com\n" * 200, group_name="Big")
    assert r.status_code == 413 and r.is_json
    assert "2000 bytes" in r.json["message"]


def test_a_file_over_the_row_limit_is_a_413_and_nothing_is_staged(client, tenant, rt):
    rt.settings.import_max_rows = 3
    r = upload(client, tenant, "email\na@x.org\nb@x.org\nc@x.org\nd@x.org\n", group_name="Big")
    assert r.status_code == 413 and "more than 3 rows" in r.json["message"]
    assert client.get("/api/v1/imports", headers=tenant.admin).json["total"] == 0
    assert upload(client, tenant, "email\na@x.org\nb@x.org\nc@x.org\n", group_name="Big").status_code == 201


def test_an_xlsx_member_list_is_read_from_its_first_sheet(client, tenant, rt, run_jobs):
    make_users(rt, tenant.id, "ada@example.com", "alan@example.com")
    group = groups.create_group(rt, tenant.id, {"name": "Maths"}, ADMIN)
    content = _xlsx(
        [
            ["Email", "First name", "Last name"],
            ["ada@example.com", "Ada", None],
            [" ALAN@example.com ", "Alan", 1912],
            [None, None, None],
            ["ghost@example.com", "G", "H"],
        ]
    )
    body = preview(client, tenant, content, filename="members.xlsx", group_id=group.id)
    assert body["encoding"] is None and body["delimiter"] is None and body["rows"] == 3
    assert [(e["row"], e["value"]) for e in body["errors"]] == [(5, "ghost@example.com")]
    commit_and_run(client, tenant, run_jobs, rt, body["id"])
    assert member_emails(rt, tenant.id, group.id) == {"ada@example.com", "alan@example.com"}


def test_an_xlsx_zip_bomb_is_refused_before_it_is_inflated(client, tenant, rt):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<row/>" * 5_000_000)  # 30 MB of one pattern
    r = upload(client, tenant, bomb.getvalue(), filename="innocent.xlsx", group_name="Boom")
    assert r.status_code == 400 and "zip bomb" in r.json["message"]


def test_a_file_that_is_not_a_workbook_but_named_xlsx_is_a_clear_error(client, tenant, rt):
    r = upload(client, tenant, b"PK\x03\x04 this is not really a zip", filename="x.xlsx", group_name="X")
    assert r.status_code == 400 and ".xlsx" in r.json["message"]


@pytest.mark.parametrize("fmt", ["members", "user-groups", "group-users", "users"])
def test_each_template_downloads_as_csv_and_xlsx_and_is_recognised_on_upload(client, tenant, rt, fmt):
    r = client.get(f"/api/v1/imports/templates/{fmt}.csv", headers=tenant.admin)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    header = next(csv.reader(io.StringIO(r.get_data(as_text=True))))
    x = client.get(f"/api/v1/imports/templates/{fmt}.xlsx", headers=tenant.admin)
    assert x.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(x.data), read_only=True).worksheets[0]
    assert [c for c in next(sheet.iter_rows(values_only=True))] == header
    extra = {"group_name": "From template"} if fmt == "members" else {}
    for content, name in ((r.data, "t.csv"), (x.data, "t.xlsx")):
        body = preview(client, tenant, content, filename=name, **extra)
        assert body["format"] == fmt and body["rows"] == 2


def test_an_unknown_template_is_not_found(client, tenant):
    assert client.get("/api/v1/imports/templates/members.pdf", headers=tenant.admin).status_code == 404
    assert client.get("/api/v1/imports/templates/everything.csv", headers=tenant.admin).status_code == 404
    assert client.get("/api/v1/imports/templates/members.csv").status_code == 401


def test_row_errors_are_paginated(client, tenant, rt):
    body = preview(client, tenant, "email\n" + "".join(f"ghost{i}@example.com\n" for i in range(120)), group_name="G")
    assert body["error_count"] == 120 and len(body["errors"]) == 50
    page = client.get(f"/api/v1/imports/{body['id']}/errors?page=3&per_page=50", headers=tenant.admin).json
    assert page["total"] == 120 and [e["row"] for e in page["items"]] == list(range(102, 122))
