"""/api/v1/lti/registrations: the tenant's registered LMSs; name one, revoke one."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.auth import actor, require_admin, runtime, tenant_id
from api.schemas import Blueprint, PageQuery, StrictSchema, page_response, page_schema
from provisioning.lti.registrations import NAME_MAX, name_registration, page_registrations, revoke_registration

blp = Blueprint(
    "lti_registrations", __name__, description="LMS platforms registered with the tenant (LTI 1.3): list, name, revoke."
)
require_admin(blp)


class LtiRegistrationSchema(Schema):
    id = fields.Integer()
    name = fields.String(allow_none=True)
    issuer = fields.String()
    client_id = fields.String()
    auth_login_url = fields.String()
    auth_token_url = fields.String()
    key_set_url = fields.String()
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(
        allow_none=True, metadata={"description": "When it was revoked: its launches and roster syncs are refused."}
    )
    status = fields.Function(lambda reg: "revoked" if reg.revoked_at else "active")


class LtiRegistrationName(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))


LtiRegistrationPage = page_schema(LtiRegistrationSchema, "LtiRegistrationPage")


@blp.get("/lti/registrations")
@blp.arguments(PageQuery, location="query")
@blp.response(200, LtiRegistrationPage)
def list_registrations(args):
    """The tenant's registered LMSs, revoked ones included, oldest first."""
    return page_response(page_registrations(runtime(), tenant_id(), **args))


@blp.patch("/lti/registrations/<int:registration_id>")
@blp.arguments(LtiRegistrationName)
@blp.response(200, LtiRegistrationSchema)
def rename(body, registration_id):
    """Name a registration (what people call the LMS)."""
    return name_registration(runtime(), tenant_id(), registration_id, body["name"], actor())


@blp.post("/lti/registrations/<int:registration_id>/revoke")
@blp.response(200, LtiRegistrationSchema)
def revoke(registration_id):
    """Revoke a registration: the LMS's launches and roster syncs are refused from now on. Idempotent."""
    return revoke_registration(runtime(), tenant_id(), registration_id, actor())
