"""Downloadable templates: the header each format expects and two example rows (declared by the format)."""

from __future__ import annotations

from provisioning.errors import NotFound
from provisioning.exports import XLSX_MIMETYPE, csv_lines, xlsx_file
from provisioning.i18n import N_
from provisioning.imports.formats import FORMATS

# Templates that are not a format's own: "bulk-add-members" is a users file (read by the users format)
# to upload with a group_id -- "A username and email are required"; language and department are optional.
EXTRA_TEMPLATES: dict[str, tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]] = {
    "bulk-add-members": (
        ("username", "email", "first_name", "last_name", "language", "department"),
        (
            ("ada.lovelace", "ada@example.com", "Ada", "Lovelace", "en", "Research"),
            ("alan.turing", "alan@example.com", "Alan", "Turing", "fr", ""),
        ),
    )
}


def template(name: str, extension: str) -> tuple[bytes, str]:
    """The template file of ``name`` as (content, mimetype); extension csv or xlsx."""
    names = [*FORMATS, *EXTRA_TEMPLATES]
    if name not in names or extension not in ("csv", "xlsx"):
        raise NotFound(
            N_("No template %(name)s.%(extension)s; templates: %(templates)s; types: csv, xlsx."),
            name=name,
            extension=extension,
            templates=", ".join(names),
        )
    if name in EXTRA_TEMPLATES:
        example_header, example_rows = EXTRA_TEMPLATES[name]
    else:
        example_header, example_rows = FORMATS[name].example_header, FORMATS[name].example_rows
    header, rows = list(example_header), [list(r) for r in example_rows]
    if extension == "csv":
        return "".join(csv_lines(header, rows)).encode("utf-8"), "text/csv; charset=utf-8"
    with xlsx_file(header, rows, title=name) as fh:
        return fh.read(), XLSX_MIMETYPE
