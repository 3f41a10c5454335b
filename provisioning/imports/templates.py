"""Downloadable templates: the header each format expects and two example rows (declared by the format)."""

from __future__ import annotations

from provisioning.errors import NotFound
from provisioning.exports import XLSX_MIMETYPE, csv_lines, xlsx_file
from provisioning.imports.formats import FORMATS


def template(name: str, extension: str) -> tuple[bytes, str]:
    """The template file of ``name`` as (content, mimetype); extension csv or xlsx."""
    if name not in FORMATS or extension not in ("csv", "xlsx"):
        raise NotFound(f"No template {name}.{extension}; formats: {', '.join(FORMATS)}; types: csv, xlsx.")
    header, rows = list(FORMATS[name].example_header), [list(r) for r in FORMATS[name].example_rows]
    if extension == "csv":
        return "".join(csv_lines(header, rows)).encode("utf-8"), "text/csv; charset=utf-8"
    with xlsx_file(header, rows, title=name) as fh:
        return fh.read(), XLSX_MIMETYPE
