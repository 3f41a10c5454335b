"""/api/v1/operations: the durable record of background work (the admins' action log)."""

from __future__ import annotations

from marshmallow import Schema, fields, pre_dump, validate

from api.auth import actor, require_admin, runtime, tenant_id
from api.schemas import (
    Blueprint,
    TimeRangeQuery,
    page_response,
    page_schema,
)
from provisioning import operations
from provisioning.batch.registry import ACTIONS
from provisioning.models import OPERATION_STATUSES, OPERATION_TYPES

blp = Blueprint("operations", __name__, description="Background operations: status, progress, outcome.")
require_admin(blp)


class ProgressSchema(Schema):
    done = fields.Integer()
    total = fields.Integer(allow_none=True, metadata={"description": "Null while the total is unknown."})


class OperationSchema(Schema):
    id = fields.Integer()
    type = fields.String()
    status = fields.String(validate=validate.OneOf(OPERATION_STATUSES))
    progress = fields.Nested(ProgressSchema)
    result = fields.Dict()
    errors = fields.List(fields.Raw())
    requested_by = fields.String(allow_none=True)
    cancel_requested = fields.Boolean()
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)

    @pre_dump
    def _with_progress(self, op, **kwargs):
        # The columns progress_done/progress_total render as one {done, total} object.
        values = {name: getattr(op, name) for name in self.fields if name != "progress"}
        return {**values, "progress": {"done": op.progress_done, "total": op.progress_total}}


class OperationListQuery(TimeRangeQuery):
    type = fields.String(
        validate=validate.OneOf(tuple(OPERATION_TYPES)), metadata={"description": "The operation type."}
    )
    action = fields.String(
        validate=validate.OneOf(tuple(ACTIONS)),
        metadata={
            "description": "The bulk action of batch_action operations, e.g. deactivate (see POST /batch-actions)."
        },
    )
    status = fields.String(validate=validate.OneOf(OPERATION_STATUSES))
    group_id = fields.Integer(
        validate=validate.Range(min=1, max=2**63 - 1),
        metadata={
            "description": "Operations about one group: copies into it, its rule's evaluations, batch actions on "
            "its members, imports into it."
        },
    )


OperationPage = page_schema(OperationSchema, "OperationPage")


@blp.get("/operations")
@blp.arguments(OperationListQuery, location="query")
@blp.response(200, OperationPage)
def list_operations(args):
    """Operations of the tenant, newest first; since/until bound their creation time."""
    return page_response(operations.list_operations(runtime(), tenant_id(), **args))


@blp.get("/operations/<int:operation_id>")
@blp.response(200, OperationSchema)
def get_operation(operation_id):
    """One operation with its progress, result and errors."""
    return operations.get_operation(runtime(), tenant_id(), operation_id)


@blp.post("/operations/<int:operation_id>/cancel")
@blp.response(200, OperationSchema)
def cancel_operation(operation_id):
    """Stop an operation: a queued one is cancelled at once, a running one between two chunks.
    Cancelling a finished operation changes nothing."""
    return operations.cancel_operation(runtime(), tenant_id(), operation_id, actor())
