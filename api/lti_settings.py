"""/api/v1/lti/settings: the tenant's LTI settings (which LMS roles make admins, unknown deployments,
roster freshness, what course managers may do)."""

from __future__ import annotations

from marshmallow import fields, validate

from api.auth import actor, require_admin, runtime, tenant_id
from api.schemas import Blueprint, StrictSchema
from provisioning.lti.registrations import (
    UNKNOWN_DEPLOYMENT_POLICIES,
    tenant_lti_settings,
    update_lti_settings,
)
from provisioning.settings_catalog import MANAGER_PERMISSIONS

blp = Blueprint("lti settings", __name__, description="The tenant's LTI 1.3 settings.")
require_admin(blp)


class LtiSettingsSchema(StrictSchema):
    admin_roles = fields.List(
        fields.String(validate=validate.Length(min=1, max=400)),
        validate=validate.Length(max=50),
        metadata={
            "description": "System or institution role URIs (LTI 1.3 A.2.1/A.2.2) that make a launching person "
            "a tenant admin; context (course) roles are refused. [] makes no LMS role an admin."
        },
    )
    unknown_deployments = fields.String(validate=validate.OneOf(UNKNOWN_DEPLOYMENT_POLICIES))
    roster_sync_max_age_minutes = fields.Integer(strict=True, validate=validate.Range(min=0, max=10**6))
    manager_permissions = fields.List(fields.String(validate=validate.OneOf(MANAGER_PERMISSIONS)))


@blp.get("/lti/settings")
@blp.response(200, LtiSettingsSchema)
def get_settings():
    """The tenant's LTI settings, defaults filled in."""
    return tenant_lti_settings(runtime(), tenant_id()).as_json()


@blp.patch("/lti/settings")
@blp.arguments(LtiSettingsSchema)
@blp.response(200, LtiSettingsSchema)
def patch_settings(changes):
    """Change some LTI settings (those not given stay); answers all of them."""
    return update_lti_settings(runtime(), tenant_id(), changes, actor()).as_json()
