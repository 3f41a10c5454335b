"""/api/v1/roles: the tenant's roles (built-in and its own), what each lets a person do, and who has it."""

from __future__ import annotations

from marshmallow import Schema, fields

from api.auth import actor, require_admin, runtime, tenant_id
from api.schemas import Blueprint, StrictSchema
from provisioning.services import roles

blp = Blueprint(
    "roles",
    __name__,
    description="Tenant roles: Learner, Curator, Manager, Report viewer and Administrator are built in; admins "
    "add their own. A person's role (the users API's `role`, the batch action change_role) decides what they "
    "may do in the embedded UI (docs/PERMISSIONS.md).",
)
require_admin(blp)


class RoleSchema(Schema):
    key = fields.String(metadata={"description": "What users.role holds and what to send to give the role."})
    label = fields.String()
    description = fields.String()
    permissions = fields.List(fields.String(), metadata={"description": "Actions granted (docs/PERMISSIONS.md)."})
    builtin = fields.Boolean(metadata={"description": "Built-in roles can't be changed or deleted."})
    scope = fields.String(
        metadata={"description": "tenant: on every group and person; courses_taught: the Manager's courses."}
    )
    people = fields.Integer(metadata={"description": "How many people have the role."})


class PermissionSchema(Schema):
    key = fields.String()
    label = fields.String()


class RoleList(Schema):
    items = fields.List(fields.Nested(RoleSchema))
    permissions = fields.List(fields.Nested(PermissionSchema), metadata={"description": "What a role may grant."})


class RoleCreate(StrictSchema):
    label = fields.String(required=True, metadata={"description": "The role's name, unique in the tenant."})
    description = fields.String()
    permissions = fields.List(fields.String(), load_default=list)
    key = fields.String(metadata={"description": "At most 20 of a-z, 0-9 and _; default: made from the name."})


class RoleUpdate(StrictSchema):
    label = fields.String()
    description = fields.String()
    permissions = fields.List(fields.String())


@blp.get("/roles")
@blp.response(200, RoleList)
def list_roles():
    """Every role of the tenant with its permissions and how many people have it."""
    items = [r.as_dict() for r in roles.list_tenant_roles(runtime(), tenant_id())]
    return {"items": items, "permissions": roles.permission_choices()}


@blp.get("/roles/<key>")
@blp.response(200, RoleSchema)
def get_role(key):
    """One role, by its key or name."""
    return roles.get_role(runtime(), tenant_id(), key).as_dict()


@blp.post("/roles")
@blp.arguments(RoleCreate)
@blp.response(201, RoleSchema)
def create_role(body):
    """A custom role; its permissions apply on the whole tenant. A name or key already taken is a 409."""
    return roles.create_role(runtime(), tenant_id(), body, actor()).as_dict()


@blp.patch("/roles/<key>")
@blp.arguments(RoleUpdate)
@blp.response(200, RoleSchema)
def update_role(body, key):
    """Change a custom role's name, description or permissions; a built-in role is a 409."""
    return roles.update_role(runtime(), tenant_id(), key, body, actor()).as_dict()


@blp.delete("/roles/<key>")
@blp.response(204)
def delete_role(key):
    """Delete a custom role; a role people still have is a 409 saying how many."""
    roles.delete_role(runtime(), tenant_id(), key, actor())
