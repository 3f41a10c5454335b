"""Marshmallow schemas shared by the admin API's resources, and its Blueprint class."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from http import HTTPStatus

from flask import current_app
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest import abort
from marshmallow import Schema, ValidationError, fields, validate, validates
from webargs.flaskparser import FlaskParser, is_json_request

from api.query import takes_only_documented_query
from provisioning import limits
from provisioning.text import text_problem

# Ids are BIGINT on PostgreSQL and 64-bit INTEGER on SQLite; a larger number is no id of ours
# (and would make the database driver raise, which must never become a 500).
MAX_ID = 2**63 - 1
# Offsets beyond this are never a real request; bounding the page keeps OFFSET within 64 bits.
MAX_PAGE = 1_000_000
MAX_IDS_PER_REQUEST = limits.MEMBERS_PER_REQUEST
MAX_JSON_DEPTH = 32


class Parser(FlaskParser):
    # Bad client input is a 400 everywhere in this service (webargs' default is 422).
    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req):
        # webargs treats a body of another content type as absent, which would surface as
        # "missing field" errors; say what is actually wrong instead.
        if not is_json_request(req) and req.get_data(cache=True):
            abort(
                400,
                messages={
                    "json": [
                        f"The body must be JSON (Content-Type: application/json), not {req.mimetype or 'untyped'}."
                    ]
                },
            )
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            abort(400, messages={"json": [f"The body is nested more than {MAX_JSON_DEPTH} levels deep."]})

    def load_json(self, req, schema):
        data = super().load_json(req, schema)
        _refuse_unstorable(data, "json")
        return data

    def load_querystring(self, req, schema):
        for key, value in req.args.items(multi=True):
            _refuse_unstorable(value, key)
        return super().load_querystring(req, schema)

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        if isinstance(error, json.JSONDecodeError):
            message = f"Malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}."
        else:
            message = "The body is not valid UTF-8 JSON."
        abort(400, messages={"json": [message]})


def _refuse_unstorable(value, path: str, depth: int = 0) -> None:
    """400 for values no database can store: NUL characters (PostgreSQL text refuses them), lone
    surrogates (not encodable as UTF-8), NaN/Infinity (Python's JSON parser accepts them, JSON
    and JSONB do not) and absurd nesting."""
    problem = None
    if depth > MAX_JSON_DEPTH:
        problem = f"Nested more than {MAX_JSON_DEPTH} levels deep."
    elif isinstance(value, str):
        refused = text_problem(value)  # the input rule, provisioning/text.py
        problem = f"The text {refused}." if refused else None
    elif isinstance(value, float) and not math.isfinite(value):
        problem = "Must be a finite number."
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_unstorable(key, path, depth + 1)
            _refuse_unstorable(item, key if path == "json" else f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_unstorable(item, f"{path}.{index}", depth + 1)
    if problem:
        abort(400, messages={"json" if path == "json" else "query": {path: [problem]}})


class Blueprint(SmorestBlueprint):
    """flask-smorest's Blueprint, with our parser; every view refuses query parameters it does not document
    (api/query.py), and every operation documents that 400."""

    ARGUMENTS_PARSER = Parser()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(self._prepare_bad_request_doc)

    def add_url_rule(self, rule, endpoint=None, view_func=None, provide_automatic_options=None, **kwargs):
        if view_func is not None and not isinstance(view_func, type):  # function views (no MethodView here)
            view_func = takes_only_documented_query(view_func)
        super().add_url_rule(rule, endpoint, view_func, provide_automatic_options, **kwargs)

    @staticmethod
    def _prepare_bad_request_doc(doc, doc_info, **kwargs):
        # Any operation answers an unknown query parameter with a 400, not only those with arguments.
        doc.setdefault("responses", {}).setdefault(400, HTTPStatus.BAD_REQUEST.name)
        return doc


class StrictSchema(Schema):
    """Request bodies: unknown fields are an error that names them (marshmallow's default RAISE)."""

    error_messages = {"type": "The body must be a JSON object."}


def id_field(**kwargs) -> fields.Integer:
    """An object id in a body or query: a whole number (not "1" nor 1.5) within the id range."""
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def timestamp_field(**kwargs) -> fields.AwareDateTime:
    """An ISO 8601 time; one without an offset is taken as UTC.  Years far outside any real
    event are refused: converting them to UTC would overflow."""
    return fields.AwareDateTime(
        default_timezone=UTC,
        validate=validate.Range(min=datetime(1900, 1, 1, tzinfo=UTC), max=datetime(9000, 1, 1, tzinfo=UTC)),
        **kwargs,
    )


class QuerySchema(Schema):
    """Query parameters. A parameter no query schema of the endpoint declares never reaches it: the view
    answers it with a 400 naming it (api/query.py); webargs itself would drop it (EXCLUDE for queries)."""


class PageQuery(QuerySchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1),
        metadata={"description": "Items per page: at most the service's PAGE_SIZE_MAX (500 unless configured)."},
    )

    @validates("per_page")
    def _within_page_size_max(self, value, **kwargs):
        maximum = current_app.extensions["provisioning"].settings.page_size_max
        if value > maximum:
            raise ValidationError(f"Must be at most {maximum} (PAGE_SIZE_MAX).")


class CsvQuery(QuerySchema):
    bom = fields.Boolean(
        load_default=False,
        metadata={"description": "1 (or true) starts the file with a byte order mark, so Excel reads it as UTF-8."},
    )


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """``{"items": [...], "total": N, "page": P, "per_page": K}`` for one item schema."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema)),
            "total": fields.Integer(),
            "page": fields.Integer(),
            "per_page": fields.Integer(),
        },
        name=name,
    )


class TimeRangeQuery(PageQuery):
    since = timestamp_field(metadata={"description": "Only those at or after this time (ISO 8601)."})
    until = timestamp_field(metadata={"description": "Only those before this time (ISO 8601)."})


class OperationAccepted(Schema):
    operation_id = fields.Integer(required=True)


def page_response(page, items=None) -> dict:
    """Render a services.pagination.Page as the list shape (``items`` replaces the page's rows)."""
    return {
        "items": page.items if items is None else items,
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
    }
