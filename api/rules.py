"""/api/v1/rules/preview and the upkeep of automatic groups (exceptions, re-evaluation)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.auth import actor, require_admin, runtime, tenant_id
from api.schemas import Blueprint, OperationAccepted, StrictSchema
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
