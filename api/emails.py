"""/api/v1/emails (the email log) and /api/v1/groups/{id}/messages (email a group's members)."""

from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, fields, validate

from api.auth import actor, require_admin, runtime, tenant_id
from api.schemas import (
    Blueprint,
    OperationAccepted,
    PageQuery,
    StrictSchema,
    page_schema,
)
from provisioning.batch import messages
from provisioning.mail import outbox
from provisioning.models import EMAIL_KINDS, EMAIL_STATUSES, TRIGGERS

blp = Blueprint("emails", __name__, description="Emails: the log of what was sent, and messages to groups.")
require_admin(blp)


class EmailSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    trigger = fields.String(
        allow_none=True, metadata={"description": "The automatic notification's trigger; null for other emails."}
    )
    to = fields.String(attribute="to_address")
    user_id = fields.Integer(allow_none=True)
    operation_id = fields.Integer(allow_none=True)
    subject = fields.String()
    status = fields.String(metadata={"description": "queued, sending, sent, failed or cancelled."})
    reason = fields.String(
        attribute="last_error",
        allow_none=True,
        metadata={"description": "Why it failed, is waiting for a retry, or is not sent."},
    )
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class EmailQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(EMAIL_STATUSES))
    kind = fields.String(validate=validate.OneOf(EMAIL_KINDS))
    trigger = fields.String(validate=validate.OneOf(TRIGGERS))
    to = fields.String(validate=validate.Length(max=320))
    user_id = fields.Integer(validate=validate.Range(min=1, max=2**63 - 1))
    operation_id = fields.Integer(validate=validate.Range(min=1, max=2**63 - 1))
    since = fields.AwareDateTime(default_timezone=UTC)
    until = fields.AwareDateTime(default_timezone=UTC)


class MessageRequest(StrictSchema):
    subject = fields.String(required=True, validate=validate.Length(min=1, max=400))
    body = fields.String(required=True, validate=validate.Length(min=1, max=20000))


EmailPage = page_schema(EmailSchema, "EmailPage")


@blp.get("/emails")
@blp.arguments(EmailQuery, location="query")
@blp.response(200, EmailPage)
def list_emails(args):
    """The email log, newest first: filter by status, kind, trigger, recipient, user, operation and time."""
    page = outbox.list_emails(
        runtime(),
        tenant_id(),
        status=args.get("status"),
        kind=args.get("kind"),
        trigger=args.get("trigger"),
        to=args.get("to"),
        user_id=args.get("user_id"),
        operation_id=args.get("operation_id"),
        since=args.get("since"),
        until=args.get("until"),
        page=args["page"],
        per_page=args["per_page"],
    )
    return {"items": page.items, "total": page.total, "page": page.page, "per_page": page.per_page}


@blp.post("/emails/send")
@blp.response(202, OperationAccepted)
def send_queued_emails():
    """Send the queued emails now, e.g. those kept while SMTP_URL was not set (400 without SMTP_URL)."""
    return {"operation_id": outbox.request_sending(runtime(), tenant_id(), actor()).id}


@blp.post("/groups/<int:group_id>/messages")
@blp.arguments(MessageRequest)
@blp.response(202, OperationAccepted)
def message_group(body, group_id):
    """Email a message to every member of the group, in the background."""
    op = messages.request_group_message(runtime(), tenant_id(), group_id, body["subject"], body["body"], actor())
    return {"operation_id": op.id}
