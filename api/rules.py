"""/api/v1/rules: preview, the rule builder (fields, values, compile, parse, diff) and the upkeep of
automatic groups (exceptions, re-evaluation)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.auth import actor, require_admin, runtime, tenant_id
from api.schemas import Blueprint, OperationAccepted, StrictSchema
from provisioning.errors import InvalidInput
from provisioning.rules import builder, editing
from provisioning.rules import definition as rules

blp = Blueprint("rules", __name__, description="Rules of automatic groups: SCIM filters over users.")
require_admin(blp)


class RuleBody(StrictSchema):
    rule = fields.String(
        required=True,
        validate=validate.Length(min=1, max=10000),
        metadata={
            "description": 'A SCIM filter over users, e.g. department eq "Sales" and '
            'enrollments[course eq "driver-safety" and status eq "completed"].'
        },
    )


class UserBrief(Schema):
    id = fields.Integer()
    username = fields.String()
    email = fields.String(allow_none=True)
    display_name = fields.String(allow_none=True)
    active = fields.Boolean()


class Preview(Schema):
    count = fields.Integer()
    sample = fields.List(fields.Nested(UserBrief))


def _user_id() -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=2**63 - 1))


class Exceptions(StrictSchema):
    always_include = fields.List(
        _user_id(),
        validate=validate.Length(max=rules.MAX_EXCEPTIONS),
        metadata={"description": "Users who are members whatever the rule says."},
    )
    never_include = fields.List(
        _user_id(),
        validate=validate.Length(max=rules.MAX_EXCEPTIONS),
        metadata={"description": "Users who are never members, whatever the rule says (wins over always_include)."},
    )


@blp.post("/rules/preview")
@blp.arguments(RuleBody)
@blp.response(200, Preview)
def preview(body):
    """How many users a rule matches, and the first ten; a bad rule is a 400 naming the position."""
    return rules.preview_rule(runtime(), tenant_id(), body["rule"])


@blp.put("/groups/<int:group_id>/rule-exceptions")
@blp.arguments(Exceptions)
@blp.response(202, OperationAccepted)
def set_exceptions(body, group_id):
    """Replace an automatic group's always-include / never-include lists; starts a re-evaluation."""
    op = rules.set_exceptions(
        runtime(),
        tenant_id(),
        group_id,
        always_include=body.get("always_include"),
        never_include=body.get("never_include"),
        actor=actor(),
    )
    return {"operation_id": op.id}


@blp.post("/groups/<int:group_id>/evaluate")
@blp.response(202, OperationAccepted)
def evaluate(group_id):
    """Re-evaluate an automatic group's rule over every user now (also clears a fixed rule_error)."""
    return {"operation_id": rules.request_evaluation(runtime(), tenant_id(), group_id, actor()).id}


# --- the rule builder -------------------------------------------------------------------------


class FieldOut(Schema):
    name = fields.String(metadata={"description": "The field as the rule names it (department, emails, hireDate)."})
    label = fields.String(metadata={"description": "The field in words."})
    type = fields.String(metadata={"description": "text, number, date, boolean or course."})
    custom = fields.Boolean(metadata={"description": "A tenant-defined attribute found on its users."})
    operators = fields.List(fields.String(), metadata={"description": "The operators this type offers."})


class CourseOut(Schema):
    id = fields.String(metadata={"description": "The course's external id, as a rule names it."})
    title = fields.String()


class FieldsOut(Schema):
    courses = fields.List(fields.Nested(CourseOut))


FieldsOut._declared_fields["fields"] = fields.List(fields.Nested(FieldOut))


class ValuesQuery(StrictSchema):
    prefix = fields.String(load_default="", validate=validate.Length(max=200))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))


class ValuesOut(Schema):
    values = fields.List(fields.String())


CONDITIONS_DOC = (
    'A group: {"match": "all" | "any", "items": [condition or group, ...]}; a condition: '
    '{"field": "department", "type": "text", "op": "is", "value": "Sales", "value2": ""}. '
    "Operators by type: " + "; ".join(f"{t}: {', '.join(ops)}" for t, ops in builder.OPERATORS.items()) + "."
)


class CompileBody(StrictSchema):
    conditions = fields.Dict(required=True, metadata={"description": CONDITIONS_DOC})


class RuleText(Schema):
    rule = fields.String(metadata={"description": "The rule in the rule language, as it would be saved."})


class ParseBody(StrictSchema):
    rule = fields.String(
        required=True,
        validate=validate.Length(min=1, max=10000),
        metadata={"description": 'The rule language, or words like: department = Engineering and email contains "x".'},
    )


class Parsed(Schema):
    rule = fields.String(metadata={"description": "The rule in the rule language."})
    conditions = fields.Dict(
        allow_none=True, metadata={"description": "The rule as conditions, or null when the builder cannot show it."}
    )
    translated_from = fields.String(
        allow_none=True, metadata={"description": "The text as given, when it was read as words."}
    )


class DiffBody(StrictSchema):
    rule = fields.String(required=True, validate=validate.Length(min=1, max=10000))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=editing.MAX_DIFF_PAGE))


class Diff(Schema):
    rule = fields.String()
    join_count = fields.Integer(metadata={"description": "How many people would join."})
    leave_count = fields.Integer(metadata={"description": "How many people would leave."})
    join = fields.List(fields.Nested(UserBrief), metadata={"description": "One page of those joining, by name."})
    leave = fields.List(fields.Nested(UserBrief), metadata={"description": "One page of those leaving, by name."})
    page = fields.Integer()
    per_page = fields.Integer()


@blp.get("/rules/fields")
@blp.response(200, FieldsOut)
def builder_fields():
    """The fields a rule can test in this tenant (standard, the custom attributes its users carry, courses)."""
    found = editing.builder_fields(runtime(), tenant_id())
    return {"fields": [f.as_dict() for f in found["fields"]], "courses": found["courses"]}


@blp.get("/rules/fields/<string:field>/values")
@blp.arguments(ValuesQuery, location="query")
@blp.response(200, ValuesOut)
def field_values(query, field):
    """Values the tenant's people already have in a text field, starting with ``prefix`` (any case)."""
    return {"values": editing.value_suggestions(runtime(), tenant_id(), field, query["prefix"], query["limit"])}


@blp.post("/rules/compile")
@blp.arguments(CompileBody)
@blp.response(200, RuleText)
def compile_conditions(body):
    """The rule text of the builder's conditions; a bad condition is a 400 naming it ("Condition 2.1: ...")."""
    try:
        conditions = builder.from_dict(body["conditions"])
    except builder.InvalidCondition as exc:
        raise editing.condition_error(exc) from None
    return {"rule": editing.compile_conditions(runtime(), tenant_id(), conditions)}


@blp.post("/rules/parse")
@blp.arguments(ParseBody)
@blp.response(200, Parsed)
def parse_rule(body):
    """A rule read back into the builder's conditions (null when it cannot show them); words are translated."""
    read = editing.read_rule(runtime(), tenant_id(), body["rule"])
    return {
        "rule": read.text,
        "conditions": read.conditions.as_dict() if read.conditions is not None else None,
        "translated_from": read.translated_from,
    }


@blp.post("/groups/<int:group_id>/rule/diff")
@blp.arguments(DiffBody)
@blp.response(200, Diff)
def rule_diff(body, group_id):
    """Who would join and who would leave the automatic group with this rule (nothing is changed)."""
    if not body["rule"].strip():
        raise InvalidInput("The rule is empty.", details={"rule": ["Enter a rule."]})
    return editing.rule_diff(
        runtime(), tenant_id(), group_id, body["rule"], page=body["page"], per_page=body["per_page"]
    )
