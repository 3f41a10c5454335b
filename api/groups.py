"""/api/v1/groups: list, create, read, change and delete groups."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.auth import actor, require_admin, runtime, tenant_id
from api.schemas import (
    Blueprint,
    PageQuery,
    StrictSchema,
    page_response,
    page_schema,
)
from provisioning.models import GROUP_KINDS
from provisioning.services import group_managers, groups
from provisioning.settings_catalog import MANAGER_PERMISSIONS

blp = Blueprint("groups", __name__, description="Groups and their member counts.")
require_admin(blp)


class GroupSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String()
    description = fields.String(allow_none=True)
    kind = fields.String()
    source = fields.String()
    external_id = fields.String(allow_none=True)
    rule = fields.String(allow_none=True)
    settings = fields.Dict(dump_only=True)  # rule_error, always_include, never_include, evaluation_operation_id
    member_count = fields.Integer(dump_default=0)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class GroupCreate(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=400))
    description = fields.String(allow_none=True, validate=validate.Length(max=10000))
    kind = fields.String(load_default="manual", validate=validate.OneOf(GROUP_KINDS))
    external_id = fields.String(allow_none=True, validate=validate.Length(max=320))
    rule = fields.String(allow_none=True, validate=validate.Length(max=10000))


class GroupUpdate(StrictSchema):
    name = fields.String(validate=validate.Length(min=1, max=400))
    description = fields.String(allow_none=True, validate=validate.Length(max=10000))
    kind = fields.String(validate=validate.OneOf(GROUP_KINDS))
    external_id = fields.String(allow_none=True, validate=validate.Length(max=320))
    rule = fields.String(allow_none=True, validate=validate.Length(max=10000))


class GroupListQuery(PageQuery):
    q = fields.String(validate=validate.Length(max=400))
    populated = fields.Boolean()
    kind = fields.String(validate=validate.OneOf(GROUP_KINDS))


GroupPage = page_schema(GroupSchema, "GroupPage")


@blp.get("/groups")
@blp.arguments(GroupListQuery, location="query")
@blp.response(200, GroupPage)
def list_groups(args):
    """Groups of the tenant, ordered by name."""
    return page_response(groups.list_groups(runtime(), tenant_id(), **args))


@blp.post("/groups")
@blp.arguments(GroupCreate)
@blp.response(201, GroupSchema)
def create_group(body):
    """Create a group."""
    return groups.create_group(runtime(), tenant_id(), {**body, "source": "api"}, actor())


@blp.get("/groups/<int:group_id>")
@blp.response(200, GroupSchema)
def get_group(group_id):
    """One group with its member count."""
    return groups.get_group(runtime(), tenant_id(), group_id)


@blp.patch("/groups/<int:group_id>")
@blp.arguments(GroupUpdate)
@blp.response(200, GroupSchema)
def update_group(body, group_id):
    """Change a group's name, description, kind or rule."""
    return groups.update_group(runtime(), tenant_id(), group_id, body, actor())


@blp.delete("/groups/<int:group_id>")
@blp.response(204)
def delete_group(group_id):
    """Delete a group; its members stay users of the tenant."""
    groups.delete_group(runtime(), tenant_id(), group_id, actor())


class ManagerSchema(Schema):
    user_id = fields.Integer(metadata={"description": "The manager's user id."})
    name = fields.String()
    email = fields.String(allow_none=True)
    how = fields.String(
        metadata={
            "enum": ["assigned", "course"],
            "description": "assigned: made a manager of this group by an admin; course: staff of a linked course.",
        }
    )
    permissions = fields.List(
        fields.String(metadata={"enum": list(MANAGER_PERMISSIONS)}),
        metadata={"description": "What they may do on the group beyond seeing it and its members."},
    )
    since = fields.DateTime(allow_none=True)


class ManagerList(Schema):
    managers = fields.List(fields.Nested(ManagerSchema))


class ManagerPut(StrictSchema):
    permissions = fields.List(
        fields.String(validate=validate.OneOf(MANAGER_PERMISSIONS)),
        required=True,
        metadata={"description": "A subset of the tenant's manager permission set (the manager_permissions setting)."},
    )


@blp.get("/groups/<int:group_id>/managers")
@blp.response(200, ManagerList)
def list_managers(group_id):
    """Who manages a group: people an admin assigned, and the staff of its linked courses."""
    groups.get_group(runtime(), tenant_id(), group_id)  # 404 for no such group
    return {"managers": group_managers.managers_of_groups(runtime(), tenant_id(), [group_id]).get(group_id, [])}


@blp.put("/groups/<int:group_id>/managers/<int:user_id>")
@blp.arguments(ManagerPut)
@blp.response(200, ManagerSchema)
def put_manager(body, group_id, user_id):
    """Make a person a manager of the group with these permissions (or change an assigned manager's)."""
    return group_managers.assign_manager(runtime(), tenant_id(), group_id, user_id, body["permissions"], actor())


@blp.delete("/groups/<int:group_id>/managers/<int:user_id>")
@blp.response(204)
def delete_manager(group_id, user_id):
    """Stop an assigned person managing the group (course staff are managed in the LMS)."""
    group_managers.remove_manager(runtime(), tenant_id(), group_id, user_id, actor())
