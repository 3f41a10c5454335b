"""/api/v1/batch-actions: apply one action to selected users in the background; download exports."""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable
from typing import Any

from flask import Response, stream_with_context
from marshmallow import fields, validate

from api.auth import actor, require_admin, runtime, tenant_id
from api.schemas import Blueprint, OperationAccepted, StrictSchema
from provisioning.batch import actions as batch_actions
from provisioning.batch.registry import ACTIONS

blp = Blueprint("batch_actions", __name__, description="Batch actions on selected users.")
require_admin(blp)

_id = dict(strict=True, validate=validate.Range(min=1, max=2**63 - 1))


def actions_description() -> str:
    """The actions and their params, from the registry, for the endpoint's documentation."""
    entries = []
    for action in ACTIONS.values():
        entry = action.name
        if action.params:
            entry += " {" + ", ".join(action.param_names) + "}"
        if action.downloadable:
            entry += " (download at /operations/{id}/export.csv)"
        entries.append(entry)
    return textwrap.fill(
        "Actions and params: " + ", ".join(entries) + ".", width=92, break_long_words=False, break_on_hyphens=False
    )


def _listing_the_actions(view: Callable[..., Any]) -> Callable[..., Any]:
    """Add the registry's actions to the view's docstring (the OpenAPI description), before it is routed."""
    view.__doc__ = f"{inspect.cleandoc(view.__doc__ or '')}\n\n{actions_description()}"
    return view


class BatchActionRequest(StrictSchema):
    action = fields.String(required=True, validate=validate.OneOf(sorted(ACTIONS)))
    user_ids = fields.List(
        fields.Integer(**_id),
        validate=validate.Length(min=1, max=batch_actions.MAX_USER_IDS),
        metadata={"description": "Select these users (ids of other tenants are never touched)."},
    )
    group_id = fields.Integer(**_id, metadata={"description": "Select the members of this group."})
    filter = fields.String(
        validate=validate.Length(min=1, max=10000),
        metadata={"description": 'Select users matching a SCIM filter, e.g. department eq "Sales".'},
    )
    params = fields.Dict(
        keys=fields.String(),
        load_default=dict,
        metadata={"description": 'The action\'s parameters, e.g. {"role": "manager"}.'},
    )


@blp.post("/batch-actions")
@blp.arguments(BatchActionRequest)
@blp.response(202, OperationAccepted)
@_listing_the_actions
def start_batch_action(body):
    """Start a batch action; follow it at /api/v1/operations/{operation_id} (Stop with .../cancel)."""
    op = batch_actions.request_batch_action(
        runtime(),
        tenant_id(),
        body["action"],
        body["params"],
        actor(),
        user_ids=body.get("user_ids"),
        group_id=body.get("group_id"),
        filter=body.get("filter"),
    )
    return {"operation_id": op.id}


@blp.get("/operations/<int:operation_id>/export.csv")
@blp.response(200, content_type="text/csv")
def download_export(operation_id):
    """The CSV written by a succeeded export_csv batch action."""
    lines = batch_actions.export_lines(runtime(), tenant_id(), operation_id)
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="users-export-{operation_id}.csv"'},
    )
