"""Emails pasted as links read as bare addresses (the group-managers article, tip c: "since you will be
adding emails, make sure they are not added as links").  Real XLSX files written by openpyxl with
hyperlinked cells, and CSV values ``mailto:...``, through the admin API, the UI's upload page and the
group page's bulk add (provisioning/imports/reading.py, ``bare_address``)."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

from provisioning.services import groups
from tests.support.api import commit_and_run, preview
from tests.support.factories import ADMIN, make_users, member_emails
from tests.support.personas import is_member, school

PEOPLE = ("ann@example.com", "bob@example.com", "cy@example.com")


def linked_workbook(header: str = "email_address") -> bytes:
    """The three ways an email arrives as a link: Excel's own (the address shown, a mailto: link behind it),
    a link cell with no text of its own (openpyxl shows the target), and a pasted "mailto:" text."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([header, "first_name"])
    sheet.append(["ann@example.com", "Ann"])
    sheet["A2"].hyperlink = "mailto:ann@example.com"
    sheet["A3"].hyperlink = "MAILTO:bob@example.com?subject=Welcome%20aboard"
    sheet["B3"] = "Bob"
    sheet.append(["mailto:Cy@Example.com?subject=Hi&body=See%20you", "Cy"])
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    # Really hyperlinked cells, as the file is stored (not only the text).
    reread = openpyxl.load_workbook(io.BytesIO(data)).active
    assert reread["A2"].hyperlink.target == "mailto:ann@example.com"
    assert reread["A3"].hyperlink.target.startswith("MAILTO:bob@")
    return data


def test_linked_emails_in_an_xlsx_preview_as_bare_addresses_through_the_api(client, tenant, rt, run_jobs):
    make_users(rt, tenant.id, *PEOPLE)
    group = groups.create_group(rt, tenant.id, {"name": "Maths"}, ADMIN)
    body = preview(client, tenant, linked_workbook(), "members.xlsx", group_id=group.id)
    assert body["errors"] == [] and body["warnings"] == [], body
    assert body["users_matched"] == 3 and body["rows"] == 3
    assert commit_and_run(client, tenant, run_jobs, rt, body["id"]).status == "succeeded"
    assert member_emails(rt, tenant.id, group.id) == set(PEOPLE)


def test_mailto_values_in_a_csv_read_as_bare_addresses(client, tenant, rt, run_jobs):
    make_users(rt, tenant.id, *PEOPLE)
    group = groups.create_group(rt, tenant.id, {"name": "Maths"}, ADMIN)
    content = (
        "email\nmailto:ann@example.com\nMailTo:BOB@example.com?subject=x&cc=y@example.com\nmailto:cy%40example.com\n"
    )
    body = preview(client, tenant, content, "members.csv", group_id=group.id)
    assert body["errors"] == [] and body["users_matched"] == 3, body
    assert commit_and_run(client, tenant, run_jobs, rt, body["id"]).status == "succeeded"
    assert member_emails(rt, tenant.id, group.id) == set(PEOPLE)


def test_a_bare_mailto_with_no_address_is_refused_by_its_row(client, tenant, rt):
    make_users(rt, tenant.id, "ann@example.com")
    group = groups.create_group(rt, tenant.id, {"name": "Maths"}, ADMIN)
    body = preview(client, tenant, "email\nmailto:ann@example.com\nmailto:\n", "members.csv", group_id=group.id)
    assert [e["row"] for e in body["errors"]] == [3] and body["users_matched"] == 1, body


@pytest.fixture
def sch(rt, app, client, tenant, platform):
    return school(rt, app, client, tenant, platform)


def test_the_upload_page_previews_linked_emails_as_bare_addresses(rt, sch):
    make_users(rt, sch.group.tenant_id, *PEOPLE)
    ada = sch.admin.session
    sent = ada.post(
        "/ui/imports/new",
        {"kind": "group", "group_id": str(sch.group.id), "file": (io.BytesIO(linked_workbook()), "members.xlsx")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302, sent.get_data(as_text=True)[-2000:]
    page = ada.client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "mailto" not in page.lower()
    assert 'id="error-rows">0<' in page and 'id="import-errors"' not in page
    assert "alert-warning warning" not in page  # the preview says nothing odd
    assert re.search(r'id="users-matched">3<', page), page[-3000:]  # all three people found, as addresses


def test_the_group_pages_bulk_add_reads_linked_emails(rt, sch, run_jobs):
    ids = make_users(rt, sch.group.tenant_id, *PEOPLE)
    ada = sch.admin.session
    started = ada.post(
        f"/ui/groups/{sch.group.id}/members/bulk",
        {"file": (io.BytesIO(linked_workbook()), "members.xlsx")},
        content_type="multipart/form-data",
    )
    assert started.status_code == 302 and "/ui/operations/" in started.headers["Location"]
    run_jobs()
    assert all(is_member(rt, sch.group.id, ids[e]) for e in PEOPLE)
