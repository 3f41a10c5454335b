"""/api/v1/courses/{external_id}/roster-sync: sync a course's roster from its LMS now."""

from __future__ import annotations

from marshmallow import Schema, fields

from api.auth import actor, require_admin, runtime, tenant_id
from api.schemas import Blueprint
from provisioning.lti.roster import request_roster_sync

blp = Blueprint("roster", __name__, description="Roster sync of LMS courses (LTI Names and Role Provisioning).")
require_admin(blp)


class RosterSyncSchema(Schema):
    operation_id = fields.Integer(attribute="id")
    type = fields.String()
    status = fields.String()


@blp.post("/courses/<path:external_id>/roster-sync")
@blp.response(202, RosterSyncSchema)
def roster_sync(external_id):
    """Start a roster sync (an Operation of type roster_sync); returns the one already pending if any."""
    return request_roster_sync(runtime(), tenant_id(), external_id, actor())
