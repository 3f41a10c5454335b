"""Member exports (CSV and XLSX): fields, Excel BOM, formula escaping, and re-import as a no-op."""

import csv
import io

import openpyxl

from provisioning import activity
from provisioning.services import groups
from tests.support.api import commit_and_run, preview
from tests.support.factories import PEOPLE, group_of_people, member_emails


def test_csv_export_lists_members_with_their_fields_and_escapes_formulas(client, tenant, rt):
    group = group_of_people(rt, tenant.id, PEOPLE)
    r = client.get(f"/api/v1/groups/{group.id}/members.csv", headers=tenant.admin)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert 'filename="Export-me-members.csv"' in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    assert rows[0] == ["First name", "Last name", "Email", "Username", "Status", "Last login", "Source"]
    assert rows[1] == ["Ada", "Lovelace", "ada@example.com", "ada@example.com", "active", "", "manual"]
    assert rows[2][:2] == ['\'=HYPERLINK("http://x")', "'+1"] and rows[3][:2] == ["'@SUM(A1)", "'-minus"]
    assert not r.data.startswith(b"\xef\xbb\xbf")
    with_bom = client.get(f"/api/v1/groups/{group.id}/members.csv?bom=1", headers=tenant.admin)
    assert with_bom.data.startswith(b"\xef\xbb\xbfFirst name,")


def test_xlsx_export_holds_text_cells_never_formulas(client, tenant, rt):
    group = group_of_people(rt, tenant.id, PEOPLE)
    r = client.get(f"/api/v1/groups/{group.id}/members.xlsx", headers=tenant.admin)
    assert r.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(r.data)).worksheets[0]
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0][2] == "Email" and cells[2][0] == '\'=HYPERLINK("http://x")'
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_an_export_re_imported_into_its_group_changes_nothing(client, tenant, rt, run_jobs):
    group = group_of_people(rt, tenant.id, PEOPLE)
    before = member_emails(rt, tenant.id, group.id)
    for extension, query in (("csv", "?bom=1"), ("xlsx", "")):  # a workbook has no byte order mark to ask for
        exported = client.get(f"/api/v1/groups/{group.id}/members.{extension}{query}", headers=tenant.admin).data
        body = preview(client, tenant, exported, filename=f"members.{extension}", group_id=group.id, mode="replace")
        assert body["format"] == "members" and body["errors"] == [] and body["warnings"] == []
        assert body["groups"][0]["members_before"] == body["groups"][0]["members_after"] == 3
        op = commit_and_run(client, tenant, run_jobs, rt, body["id"])
        assert (op.result["applied"], op.result["skipped"], op.result["removed"]) == (0, 3, 0), extension
    assert member_emails(rt, tenant.id, group.id) == before
    assert activity.list_events(rt, tenant.id, channel="job", action="group.member_added").total == 0


def test_a_large_group_exports_every_member_once_in_chunks(client, tenant, rt, run_jobs):
    emails = [f"person{i:05d}@example.com" for i in range(2100)]
    users_file = "email,first_name\n" + "".join(f"{e},P{i}\n" for i, e in enumerate(emails))
    commit_and_run(client, tenant, run_jobs, rt, preview(client, tenant, users_file, format="users")["id"])
    members_file = "email\n" + "".join(f"{e}\n" for e in emails)
    commit_and_run(client, tenant, run_jobs, rt, preview(client, tenant, members_file, group_name="Everyone")["id"])
    group = groups.list_groups(rt, tenant.id, q="Everyone").items[0]
    r = client.get(f"/api/v1/groups/{group.id}/members.csv", headers=tenant.admin)
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))[1:]
    assert len(rows) == 2100 and sorted(row[2] for row in rows) == emails
    assert {row[4] for row in rows} == {"invited"} and {row[6] for row in rows} == {"csv"}


def test_another_tenants_group_is_not_found(client, tenant, other_tenant, rt):
    group = group_of_people(rt, other_tenant.id, PEOPLE[:1])
    for extension in ("csv", "xlsx"):
        assert client.get(f"/api/v1/groups/{group.id}/members.{extension}", headers=tenant.admin).status_code == 404
