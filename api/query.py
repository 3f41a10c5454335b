"""The admin API takes only the query parameters it documents: any other is a 400 that names it.

A misspelt filter (``?stauts=active``) or one an endpoint does not support (``?typ=import``) used
to be dropped silently, so the caller got an unfiltered list and no hint why (issue 17 item 6).
Each view is wrapped when its blueprint registers it (:class:`api.schemas.Blueprint`); the names
it takes are read from the same ``@blp.arguments(..., location="query")`` schemas that the OpenAPI
document lists, so the refusal and the document cannot disagree. A view without a query schema
takes no query parameter at all.

The check runs inside the view: after the blueprint's authentication (a caller without a token
gets its 401 first) and before the arguments are parsed or any object is looked up, so a bad
parameter on a missing object is a 400, like a bad body. The admin API is authenticated by the
``Authorization`` header alone, so no parameter is taken everywhere (no launch token, no
cache-buster).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import request
from marshmallow import Schema

from api.errors import error_response
from provisioning.text import shown

NAMED_AT_MOST = 10  # unknown names spelt out in the message; the errors object has each of them


def query_names(view: Callable) -> frozenset[str]:
    """The query parameters a view documents through flask-smorest's ``@blp.arguments``."""
    parameters = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    names: set[str] = set()
    for parameter in parameters:
        if parameter.get("in") != "query":
            continue
        schema = parameter["schema"]
        schema = schema() if isinstance(schema, type) and issubclass(schema, Schema) else schema
        names.update(field.data_key or name for name, field in schema.fields.items() if not field.dump_only)
    return frozenset(names)


def takes_only_documented_query(view: Callable) -> Callable:
    """``view`` answering a query parameter it does not document with a 400 naming it."""
    taken = query_names(view)

    @wraps(view)
    def checked(*args, **kwargs):
        unknown = [name for name in dict.fromkeys(request.args.keys()) if name not in taken]
        if unknown:
            return unknown_parameters(unknown, taken)
        return view(*args, **kwargs)

    return checked


def unknown_parameters(unknown: list[str], taken: frozenset[str]):
    """The 400: ``Unknown query parameter 'stauts'. This endpoint takes: page, per_page, q, status.``"""
    takes = f"This endpoint takes: {', '.join(sorted(taken))}." if taken else "This endpoint takes no query parameters."
    names = [repr(shown(name)) for name in unknown]
    listed = ", ".join(names[:NAMED_AT_MOST]) + (
        f" and {len(names) - NAMED_AT_MOST} more" if len(names) > NAMED_AT_MOST else ""
    )
    noun = "parameter" if len(names) == 1 else "parameters"
    errors = {shown(name): [f"Unknown query parameter. {takes}"] for name in unknown}
    return error_response(400, f"Unknown query {noun} {listed}. {takes}", errors)
