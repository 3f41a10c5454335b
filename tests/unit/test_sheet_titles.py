"""Sheet titles (provisioning/exports.py): any name becomes a title Excel accepts, unique in its workbook."""

from __future__ import annotations

import io

import openpyxl
import pytest

from provisioning.exports import sheet_title, xlsx_workbook

NAMES = [
    "a/b\\c:d?e*f[g]h",
    "x" * 200,
    "🚀" * 40,
    "קבוצה א׳",
    "=cmd|' /C calc'!A0",
    "'quoted'",
    "History",
    "HISTORY",
    "",
    "   ",
    "\x00\ud800\x01",
]


@pytest.mark.parametrize("name", NAMES)
def test_any_name_becomes_a_title_excel_accepts(name):
    title = sheet_title(name)
    assert 1 <= len(title.encode("utf-16-le")) // 2 <= 31
    assert not set(title) & set("\\/?*[]:") and title[0] != "'" and title[-1] != "'"
    assert title.casefold() != "history"


def test_names_that_clean_to_the_same_title_get_distinct_sheets_in_one_workbook():
    names = ["Q1/plan", "Q1:plan", "q1?plan", "x" * 40, "x" * 35, "History", "history"]
    with xlsx_workbook([(n, ["Name"], [[n]]) for n in names]) as fh:
        workbook = openpyxl.load_workbook(io.BytesIO(fh.read()))
    titles = workbook.sheetnames
    assert len({t.casefold() for t in titles}) == len(names), titles
    assert titles[:3] == ["Q1_plan", "Q1_plan (2)", "q1_plan (3)"]
    assert [ws["A2"].value for ws in workbook.worksheets] == names  # each sheet holds its own data
