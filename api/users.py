"""/api/v1/users: list, create, read and change users."""

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
from provisioning.models import USER_STATUSES
from provisioning.services import users

blp = Blueprint("users", __name__, description="People of the tenant.")
require_admin(blp)


class UserSchema(Schema):
    """A user as the admin API shows it (first_name/last_name are the given/family name)."""

    id = fields.Integer(dump_only=True)
    email = fields.String(allow_none=True)
    username = fields.String()
    first_name = fields.String(attribute="given_name", allow_none=True)
    last_name = fields.String(attribute="family_name", allow_none=True)
    display_name = fields.String(allow_none=True)
    status = fields.String()
    active = fields.Boolean()
    role = fields.String()
    role_source = fields.String(
        dump_only=True,
        metadata={
            "description": "scim: the identity provider's roles gave the role (the tenant's scim_role_map), which "
            "they may change again; admin: given by hand (or the default), never changed by the identity provider."
        },
    )
    language = fields.String(allow_none=True)
    locale = fields.String(allow_none=True)
    timezone = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    user_type = fields.String(allow_none=True)
    external_id = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    division = fields.String(allow_none=True)
    organization = fields.String(allow_none=True)
    cost_center = fields.String(allow_none=True)
    employee_number = fields.String(allow_none=True)
    manager_id = fields.String(allow_none=True)
    custom_attributes = fields.Dict(keys=fields.String())
    last_login_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


def _text(max_length: int, **kwargs) -> fields.String:
    return fields.String(allow_none=True, validate=validate.Length(max=max_length), **kwargs)


class UserChanges(StrictSchema):
    """The attributes an admin may set; loads onto the service's attribute names."""

    # The address itself is checked by the service (one rule for every channel).
    email = _text(320)
    username = fields.String(validate=validate.Length(min=1, max=320))
    first_name = _text(200, attribute="given_name")
    last_name = _text(200, attribute="family_name")
    display_name = _text(400)
    status = fields.String(validate=validate.OneOf(USER_STATUSES))
    active = fields.Boolean()
    role = fields.String(metadata={"description": "The key (or name) of one of the tenant's roles: GET /roles."})
    language = _text(35)
    locale = _text(35)
    timezone = _text(64)
    title = _text(200)
    user_type = _text(100)
    external_id = _text(320)
    department = _text(200)
    division = _text(200)
    organization = _text(200)
    cost_center = _text(200)
    employee_number = _text(100)
    manager_id = _text(320)
    custom_attributes = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=100)))


class UserCreate(UserChanges):
    email = fields.String(required=True, validate=validate.Length(min=1, max=320))
    first_name = _text(200, attribute="given_name", required=True)
    last_name = _text(200, attribute="family_name", required=True)


class UserListQuery(PageQuery):
    q = fields.String(
        validate=validate.Length(max=320),
        metadata={"description": "Case-insensitive substring of name, username or email."},
    )
    status = fields.String(validate=validate.OneOf(USER_STATUSES))


UserPage = page_schema(UserSchema, "UserPage")


@blp.get("/users")
@blp.arguments(UserListQuery, location="query")
@blp.response(200, UserPage)
def list_users(args):
    """Users of the tenant, oldest first."""
    return page_response(users.list_users(runtime(), tenant_id(), **args))


@blp.post("/users")
@blp.arguments(UserCreate)
@blp.response(201, UserSchema)
def create_user(body):
    """Create a user; the username defaults to the email. 409 names the field already taken,
    403 when the tenant's seat limit is reached."""
    # Automatic groups follow every change: re-evaluated in the same unit of work.
    return users.create_user(runtime(), tenant_id(), body, actor(), reevaluate=True)


@blp.get("/users/<int:user_id>")
@blp.response(200, UserSchema)
def get_user(user_id):
    """One user."""
    return users.get_user(runtime(), tenant_id(), user_id)


@blp.patch("/users/<int:user_id>")
@blp.arguments(UserChanges)
@blp.response(200, UserSchema)
def update_user(body, user_id):
    """Change some attributes of a user; status "deactivated" (or active false) deactivates them."""
    return users.update_user(runtime(), tenant_id(), user_id, body, actor(), reevaluate=True)
