"""Marshmallow schemas shared by the admin API's resources, and its Blueprint class."""

from __future__ import annotations

from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import EXCLUDE, Schema, fields, validate
from webargs.flaskparser import FlaskParser


class Parser(FlaskParser):
    # Bad client input is a 400 everywhere in this service (webargs' default is 422).
    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = Parser()


class StrictSchema(Schema):
    """Request bodies: unknown fields are an error that names them."""


class QuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE


class PageQuery(QuerySchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


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


class OperationAccepted(Schema):
    operation_id = fields.Integer(required=True)


def page_body(page, dump):
    """Render a services.pagination.Page with ``dump`` applied to each item."""
    return {"items": [dump(i) for i in page.items], "total": page.total, "page": page.page, "per_page": page.per_page}
