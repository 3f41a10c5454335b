"""Formula escaping in every download not covered by tests/http/test_export_members.py (admin API member
exports) and tests/http/test_batch_actions.py (the export_csv batch action): the import report (admin
API and UI) and the UI's member CSV and XLSX.  A cell that a spreadsheet would run as a formula
(= + - @ tab CR) is written as text (OWASP "CSV injection")."""

from __future__ import annotations

import csv
import io

import openpyxl

from provisioning.exports import FORMULA_STARTS
from tests.support.api import upload
from tests.support.factories import PEOPLE, group_of_people
from tests.support.signin import sign_in

FORMULAS = ["=HYPERLINK(1)", "+1", "@SUM(A1)", "-2+3", "\t=1", "\r=1"]


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _assert_inert(cells) -> None:
    live = [c for c in cells if isinstance(c, str) and c.startswith(FORMULA_STARTS)]
    assert not live, live


def _import_with_formulas(client, tenant) -> int:
    content = "email,first_name\n" + "".join(f'"{f}@x",n\n' for f in FORMULAS) + "ada@example.com,Ada\n"
    group = client.post("/api/v1/groups", json={"name": "Escapes"}, headers=tenant.admin).json
    r = upload(client, tenant, content, group_id=group["id"])
    assert r.status_code == 201, r.json
    return r.json["id"]


def test_the_import_report_escapes_formulas_from_the_uploaded_file(client, rt, tenant):
    import_id = _import_with_formulas(client, tenant)
    api = client.get(f"/api/v1/imports/{import_id}/report.csv", headers=tenant.admin).get_data(as_text=True)
    ui = sign_in(client, rt, tenant.id).get(f"/ui/imports/{import_id}/report.csv").get_data(as_text=True)
    for text in (api, ui):
        cells = _cells(text)
        assert "'+1@x" in cells and "'-2+3@x" in cells, cells  # the rows' values are there, as text
        _assert_inert(cells)


def test_the_uis_member_downloads_escape_formulas(client, rt, tenant):
    group = group_of_people(rt, tenant.id, PEOPLE)
    owner = sign_in(client, rt, tenant.id)
    cells = _cells(owner.get(f"/ui/groups/{group.id}/members.csv").get_data(as_text=True))
    assert '\'=HYPERLINK("http://x")' in cells and "'@SUM(A1)" in cells
    _assert_inert(cells)
    sheet = openpyxl.load_workbook(io.BytesIO(owner.get(f"/ui/groups/{group.id}/members.xlsx").data)).worksheets[0]
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    _assert_inert(c.value for row in sheet.iter_rows() for c in row)
