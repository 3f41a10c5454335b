"""/api/v1/groups/{id}/members.csv and .xlsx: a group's members as a spreadsheet that re-imports as a no-op."""

from __future__ import annotations

from flask import Response, stream_with_context

from api.auth import require_admin, runtime, tenant_id
from api.schemas import Blueprint, CsvQuery
from provisioning import exports

blp = Blueprint("exports", __name__, description="Spreadsheet downloads of group members.")
require_admin(blp)


@blp.get("/groups/<int:group_id>/members.csv")
@blp.arguments(CsvQuery, location="query")
@blp.response(200, content_type="text/csv")
def members_csv(query, group_id):
    """Members as CSV (First name, Last name, Email, Username, Status, Last login, Source); ?bom=1 for Excel."""
    title = exports.group_title(runtime(), tenant_id(), group_id)
    rows = exports.member_rows(runtime(), tenant_id(), group_id)
    body = exports.csv_lines(exports.MEMBER_HEADER, rows, bom=query["bom"])
    return Response(
        stream_with_context(body),
        mimetype="text/csv",
        headers={"Content-Disposition": exports.attachment(title, "-members.csv", f"group-{group_id}")},
    )


@blp.get("/groups/<int:group_id>/members.xlsx")
@blp.response(200, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
def members_xlsx(group_id):
    """Members as an Excel workbook (written row by row to a spooled file, then streamed)."""
    title = exports.group_title(runtime(), tenant_id(), group_id)
    rows = exports.member_rows(runtime(), tenant_id(), group_id)
    fh = exports.xlsx_file(exports.MEMBER_HEADER, rows, title=title)
    return Response(
        exports.file_chunks(fh),
        mimetype=exports.XLSX_MIMETYPE,
        headers={"Content-Disposition": exports.attachment(title, "-members.xlsx", f"group-{group_id}")},
    )
