"""/api/v1/settings: the tenant's settings (join and password-reset links, sender name, default
language, what managers may do, which LMS roles make admins, which identity provider and LMS roles give
which tenant role, seats).  The schema is generated from
the one declaration of the settings, provisioning/settings_catalog.py; values are checked there."""

from __future__ import annotations

from marshmallow import Schema, fields

from api.auth import actor, require_admin, runtime, tenant_id
from api.schemas import Blueprint, StrictSchema
from provisioning.services.tenant_settings import get_settings, update_settings
from provisioning.settings_catalog import CATALOG, LANGUAGES, MANAGER_PERMISSIONS, SettingSpec

blp = Blueprint("settings", __name__, description="The tenant's settings.")
require_admin(blp)


class SeatsSchema(Schema):
    limit = fields.Integer(allow_none=True, metadata={"description": "The operator's seat limit; null: none."})
    used = fields.Integer(metadata={"description": "People who are not deactivated."})


def _field(spec: SettingSpec, *, request: bool) -> fields.Field:
    meta: dict = {"description": spec.description}
    if spec.default is not None:
        meta["default"] = spec.default
    if spec.kind == "seats":
        if request:  # accepted by the schema so the service can say it is read-only, not "unknown"
            return fields.Raw(metadata={**meta, "readOnly": True})
        return fields.Nested(SeatsSchema, metadata={**meta, "readOnly": True})
    if spec.kind == "url":
        meta["format"] = "uri"
    if spec.kind == "language":
        meta["enum"] = list(LANGUAGES)
    if spec.kind == "permissions":
        return fields.List(fields.String(metadata={"enum": list(MANAGER_PERMISSIONS)}), allow_none=True, metadata=meta)
    if spec.kind == "roles":
        return fields.List(fields.String(), allow_none=True, metadata=meta)
    if spec.kind == "role_map":
        return fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True, metadata=meta)
    if spec.kind == "flag":
        return fields.Boolean(allow_none=True, metadata=meta)
    return fields.String(allow_none=True, metadata=meta)


TenantSettingsSchema = Schema.from_dict(
    {spec.key: _field(spec, request=False) for spec in CATALOG}, name="TenantSettingsSchema"
)
TenantSettingsPatchSchema = StrictSchema.from_dict(
    {spec.key: _field(spec, request=True) for spec in CATALOG}, name="TenantSettingsPatchSchema"
)


@blp.get("/settings")
@blp.response(200, TenantSettingsSchema)
def get_tenant_settings():
    """Every setting of the tenant, defaults filled in."""
    return get_settings(runtime(), tenant_id())


@blp.patch("/settings")
@blp.arguments(TenantSettingsPatchSchema)
@blp.response(200, TenantSettingsSchema)
def patch_tenant_settings(changes):
    """Change some settings (those not given stay; null puts one back to its default); answers all of them.
    An unknown key, a read-only one (seats) or a bad value is a 400 naming the key; nothing is changed then."""
    return update_settings(runtime(), tenant_id(), changes, actor())
