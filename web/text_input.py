"""The input rule at the HTTP edges: no NUL and no lone surrogate in any text a request carries.

Each edge calls :func:`check_request` from its ``before_request`` (after authentication), so the
refusal is raised inside the edge and rendered in its own form (SCIM error, API JSON, UI page).
What it checks: the path, query parameters, form fields, uploaded file names, header values and,
where the edge asks, the JSON body. The rule itself is provisioning/text.py.
"""

from __future__ import annotations

import json

from flask import request

from provisioning.text import check_text, check_tree, shown

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def check_request(*, json_body: bool = True) -> None:
    """Raise InvalidText for the first NUL or lone surrogate in the request's text.

    ``json_body=False`` for an edge that decodes its body itself and calls :func:`check_json`.
    """
    check_text(request.path, "the URL path", field="path")
    for name, value in request.args.items(multi=True):
        check_text(name, "a query parameter's name", field="query")
        check_text(value, f"query parameter {shown(name)!r}", field=shown(name))
    for name, value in request.headers.items():
        check_text(value, f"header {shown(name)!r}", field=shown(name))
    if request.mimetype == "application/x-www-form-urlencoded":
        # Keep the raw body readable after the form is parsed (Werkzeug parses from the cached bytes):
        # an edge that wants JSON says so by it. A urlencoded body is small; multipart uploads stream.
        request.get_data(cache=True)
    if request.mimetype in FORM_TYPES:
        for name, value in request.form.items(multi=True):
            check_text(name, "a form field's name", field="form")
            check_text(value, f"form field {shown(name)!r}", field=shown(name))
        for name, upload in request.files.items(multi=True):
            check_text(upload.filename or "", f"the name of the uploaded file {shown(name)!r}", field=shown(name))
    elif json_body and request.is_json:
        body = _decoded_json()
        if body is not None:
            check_json(body)


def _decoded_json() -> object | None:
    """The JSON body, or None when it isn't JSON: the edge's own parser then says what is wrong with it.

    Decoded here from the cached bytes, not with ``request.get_json``: that would cache its own
    verdict on a bad body (and a RecursionError on absurd nesting is no ValueError)."""
    data = request.get_data(cache=True)
    if not data:
        return None
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def check_json(body: object, where: str = "the JSON body") -> None:
    """Check decoded JSON (json turns ``"\\u0000"`` and ``"\\ud800"`` into the very characters refused)."""
    check_tree(body, where)
