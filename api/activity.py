"""/api/v1/activity: the audit log of the tenant."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.auth import require_admin, runtime, tenant_id
from api.schemas import (
    Blueprint,
    TimeRangeQuery,
    page_response,
    page_schema,
)
from provisioning import activity
from provisioning.models import CHANNELS

blp = Blueprint("activity", __name__, description="Who did what to which object, through which channel.")
require_admin(blp)


class ActivityEventSchema(Schema):
    id = fields.Integer()
    actor = fields.String(allow_none=True)
    action = fields.String()
    object_type = fields.String(allow_none=True)
    object_id = fields.String(allow_none=True)
    channel = fields.String()
    details = fields.Dict()
    created_at = fields.DateTime()


class ActivityQuery(TimeRangeQuery):
    action = fields.String(validate=validate.Length(max=100), metadata={"description": "e.g. user.created"})
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    object_type = fields.String(validate=validate.Length(max=50), metadata={"description": "e.g. user, group"})
    object_id = fields.String(validate=validate.Length(max=100))
    group_id = fields.Integer(
        validate=validate.Range(min=1, max=2**63 - 1),
        metadata={
            "description": "Events about one group: on the group itself, and on its members' memberships "
            "(added or removed by hand, by an import or by its rule)"
        },
    )


ActivityPage = page_schema(ActivityEventSchema, "ActivityPage")


@blp.get("/activity")
@blp.arguments(ActivityQuery, location="query")
@blp.response(200, ActivityPage)
def list_activity(args):
    """Events of the tenant, newest first; since/until bound their time."""
    return page_response(activity.list_events(runtime(), tenant_id(), **args))
