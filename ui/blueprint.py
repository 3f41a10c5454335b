"""The /ui blueprint every UI view registers on, with its templates and assets."""

from __future__ import annotations

from flask import Blueprint

# Ids in paths fit a BIGINT: a larger number is a 404, never a database error.
ID = "int(max=9223372036854775807)"
bp = Blueprint(
    "ui", __name__, url_prefix="/ui", template_folder="templates", static_folder="static", static_url_path="/static"
)
