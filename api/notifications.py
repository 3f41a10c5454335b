"""/api/v1/notification-triggers: the tenant's automatic notification emails, each with a switch and templates."""

from __future__ import annotations

from marshmallow import Schema, fields

from api.auth import actor, require_admin, runtime, tenant_id
from api.schemas import Blueprint, StrictSchema
from provisioning.mail import triggers

blp = Blueprint(
    "notification_triggers",
    __name__,
    description="Automatic notifications: an email to a user when they are enrolled in a course, complete one, "
    "are added to a group, are invited, or get a seat. Each is off until switched on.",
)
require_admin(blp)


class TemplateSchema(Schema):
    subject = fields.String()
    body = fields.String()


class TriggerSchema(Schema):
    trigger = fields.String(metadata={"description": "enrolled, completed, group_added, invited or seat_assigned."})
    label = fields.String()
    enabled = fields.Boolean()
    placeholders = fields.List(
        fields.String(), metadata={"description": "The placeholders its templates may use, written {name}."}
    )
    templates = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(TemplateSchema),
        metadata={"description": "Subject and body per language (ISO 639 code); the user's language picks one."},
    )
    customized = fields.List(fields.String(), metadata={"description": "Languages changed from the defaults."})
    default_language = fields.String(metadata={"description": "For users whose language has no template."})


class TriggerList(Schema):
    items = fields.List(fields.Nested(TriggerSchema))


class TriggerUpdate(StrictSchema):
    enabled = fields.Boolean()
    templates = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(allow_none=True),
        metadata={
            "description": 'Per language: {"subject": ..., "body": ...}, or null to go back to the default. '
            "Unknown placeholders are a 400 naming the field and their position."
        },
    )


class TriggerPreviewRequest(StrictSchema):
    language = fields.String(load_default="en", metadata={"description": "An ISO 639 code; default en."})
    subject = fields.String(metadata={"description": "With body: preview this template instead of the saved one."})
    body = fields.String()


class TriggerPreviewSchema(Schema):
    subject = fields.String()
    text = fields.String()
    html = fields.String()


@blp.get("/notification-triggers")
@blp.response(200, TriggerList)
def list_triggers():
    """Every trigger with its switch, placeholders and templates."""
    return {"items": triggers.list_triggers(runtime(), tenant_id())}


@blp.get("/notification-triggers/<trigger>")
@blp.response(200, TriggerSchema)
def get_trigger(trigger):
    """One trigger (400 for an unknown trigger name)."""
    return triggers.get_trigger(runtime(), tenant_id(), trigger)


@blp.patch("/notification-triggers/<trigger>")
@blp.arguments(TriggerUpdate)
@blp.response(200, TriggerSchema)
def update_trigger(body, trigger):
    """Switch a trigger on or off and change its templates; every template is checked before anything changes."""
    return triggers.update_trigger(
        runtime(),
        tenant_id(),
        trigger,
        enabled=body.get("enabled"),
        templates=body.get("templates"),
        actor=actor(),
    )


@blp.post("/notification-triggers/<trigger>/preview")
@blp.arguments(TriggerPreviewRequest)
@blp.response(200, TriggerPreviewSchema)
def preview_trigger(body, trigger):
    """The email as a user of that language would get it, with sample names; give subject and body to
    preview an edit (checked like PATCH: a 400 names an unknown placeholder and its position). Changes nothing."""
    template = (
        {"subject": body.get("subject"), "body": body.get("body")} if "subject" in body or "body" in body else None
    )
    return triggers.preview(runtime(), tenant_id(), trigger, body["language"], template)
