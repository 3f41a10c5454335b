"""/api/v1/users/{id}/tasks, /certificates and /notifications: what a user was given."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.auth import actor, require_admin, runtime, tenant_id
from api.schemas import Blueprint, PageQuery, StrictSchema, page_schema
from provisioning.models.engagement import TASK_STATUSES
from provisioning.services import certificates, notifications, tasks

blp = Blueprint("user_records", __name__, description="A user's tasks, certificates and notifications.")
require_admin(blp)


class TaskSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    title = fields.String()
    due_date = fields.Date(allow_none=True)
    status = fields.String()
    assigned_by = fields.String(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class CertificateSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    name = fields.String()
    issued_on = fields.Date()
    issued_by = fields.String(allow_none=True)
    created_at = fields.DateTime()


class NotificationSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    subject = fields.String()
    body = fields.String()
    sent_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True, metadata={"description": "Empty until the user has joined."})
    read_at = fields.DateTime(allow_none=True)


class TaskQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(TASK_STATUSES))


class TaskUpdate(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(TASK_STATUSES))


def _page(page):
    return {"items": page.items, "total": page.total, "page": page.page, "per_page": page.per_page}


@blp.get("/users/<int:user_id>/tasks")
@blp.arguments(TaskQuery, location="query")
@blp.response(200, page_schema(TaskSchema, "TaskPage"))
def list_tasks(args, user_id):
    """A user's tasks, soonest due first."""
    return _page(
        tasks.list_tasks(
            runtime(), tenant_id(), user_id, status=args.get("status"), page=args["page"], per_page=args["per_page"]
        )
    )


@blp.patch("/users/<int:user_id>/tasks/<int:task_id>")
@blp.arguments(TaskUpdate)
@blp.response(200, TaskSchema)
def update_task(body, user_id, task_id):
    """Mark a task completed, or open again."""
    return tasks.set_task_status(runtime(), tenant_id(), user_id, task_id, body["status"], actor())


@blp.get("/users/<int:user_id>/certificates")
@blp.arguments(PageQuery, location="query")
@blp.response(200, page_schema(CertificateSchema, "CertificatePage"))
def list_certificates(args, user_id):
    """A user's certificates, most recent first."""
    return _page(
        certificates.list_certificates(runtime(), tenant_id(), user_id, page=args["page"], per_page=args["per_page"])
    )


@blp.get("/users/<int:user_id>/notifications")
@blp.arguments(PageQuery, location="query")
@blp.response(200, page_schema(NotificationSchema, "NotificationPage"))
def list_notifications(args, user_id):
    """A user's in-app notifications, newest first."""
    return _page(
        notifications.list_notifications(runtime(), tenant_id(), user_id, page=args["page"], per_page=args["per_page"])
    )
