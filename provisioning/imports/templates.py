"""Downloadable templates: the header each format expects and two example rows."""

from __future__ import annotations

from provisioning.errors import NotFound
from provisioning.exports import csv_lines, xlsx_file
from provisioning.imports.formats import EXAMPLE_HEADERS
from provisioning.models.imports import IMPORT_FORMATS

EXAMPLES = {
    "members": [["ada@example.com", "Ada", "Lovelace"], ["alan@example.com", "Alan", "Turing"]],
    "user-groups": [
        ["ada@example.com", "Ada", "Lovelace", "Mathematics", "Engineering"],
        ["alan@example.com", "Alan", "Turing", "Mathematics", ""],
    ],
    "group-users": [["Mathematics", "ada@example.com", "alan@example.com"], ["Engineering", "ada@example.com", ""]],
    "users": [
        ["ada@example.com", "ada", "Ada", "Lovelace", "learner", "en", "Research"],
        ["alan@example.com", "alan", "Alan", "Turing", "manager", "en-GB", "Research"],
    ],
    "enrollments": [
        ["ada@example.com", "", "driver-safety", "Learner", "completed", "2024-05-31T12:00:00Z"],
        ["", "42", "driver-safety", "Learner", "in_progress", ""],
    ],
}


def template(name: str, extension: str) -> tuple[bytes, str]:
    """The template file of ``name`` as (content, mimetype); extension csv or xlsx."""
    if name not in IMPORT_FORMATS or extension not in ("csv", "xlsx"):
        raise NotFound(f"No template {name}.{extension}; formats: {', '.join(IMPORT_FORMATS)}; types: csv, xlsx.")
    header, rows = EXAMPLE_HEADERS[name], EXAMPLES[name]
    if extension == "csv":
        return "".join(csv_lines(header, rows)).encode("utf-8"), "text/csv; charset=utf-8"
    with xlsx_file(header, rows, title=name) as fh:
        return fh.read(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
