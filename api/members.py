"""/api/v1/groups/{id}/members: list, add, remove and copy a group's members."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.auth import actor, require_admin, runtime, tenant_id
from api.schemas import (
    MAX_IDS_PER_REQUEST,
    Blueprint,
    OperationAccepted,
    PageQuery,
    StrictSchema,
    id_field,
    page_response,
    page_schema,
)
from api.users import UserSchema
from provisioning import limits
from provisioning.models import MEMBERSHIP_SOURCES
from provisioning.rules import definition as rule_definition
from provisioning.services import memberships

blp = Blueprint("members", __name__, description="Members of a group.")
require_admin(blp)


class MemberSchema(UserSchema):
    """The user plus how and when they joined the group."""

    source = fields.String(
        metadata={
            "enum": [*MEMBERSHIP_SOURCES, "included"],
            "description": "How they joined; included: on an automatic group's include list (a member file "
            "or the rule exceptions), so re-evaluating the rule never removes them.",
        }
    )
    always_included = fields.Boolean(metadata={"description": "On the automatic group's include list."})
    added_at = fields.DateTime()


class Member:
    """A (User, Membership) row seen as one object: the user's attributes plus source and added_at."""

    def __init__(self, user, membership, included: frozenset[int] = frozenset()) -> None:
        self._user = user
        self.always_included = user.id in included
        self.source = "included" if self.always_included else membership.source
        self.added_at = membership.added_at

    def __getattr__(self, name):
        return getattr(self._user, name)


class MemberListQuery(PageQuery):
    q = fields.String(
        validate=validate.Length(max=320), metadata={"description": "Case-insensitive substring of username or email."}
    )


class MembersToAdd(StrictSchema):
    # At most MAX_IDS_PER_REQUEST of each (provisioning/limits.py): the work of one request stays bounded.
    user_ids = fields.List(id_field(), validate=validate.Length(max=MAX_IDS_PER_REQUEST))
    emails = fields.List(
        fields.String(validate=validate.Length(min=1, max=320)), validate=validate.Length(max=MAX_IDS_PER_REQUEST)
    )
    invite = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Create unknown emails as invited users and email them the tenant's join link. "
            "A single unknown email given alone is always invited. At most "
            f"{limits.USERS_CREATED_PER_REQUEST} unknown emails are invited per request (more: a 400 and "
            "nothing changed; import a CSV instead)."
        },
    )

    @validates_schema
    def _one_of_them(self, data, **kwargs):
        if not data.get("user_ids") and not data.get("emails"):
            raise ValidationError("Give a non-empty list of user_ids or of emails.", "user_ids")


class MembersAdded(Schema):
    added = fields.Integer(metadata={"description": "Users who became members."})
    already_members = fields.Integer(metadata={"description": "Users who were members before."})


class CopyMembers(StrictSchema):
    from_group_id = id_field(required=True)


MemberPage = page_schema(MemberSchema, "MemberPage")


@blp.get("/groups/<int:group_id>/members")
@blp.arguments(MemberListQuery, location="query")
@blp.response(200, MemberPage)
def list_members(args, group_id):
    """Members of a group with their user attributes and last login, by user id."""
    page = memberships.list_members(runtime(), tenant_id(), group_id, **args)
    included = rule_definition.always_included(runtime(), tenant_id(), group_id)
    return page_response(page, [Member(user, membership, included) for user, membership in page.items])


@blp.post("/groups/<int:group_id>/members")
@blp.arguments(MembersToAdd)
@blp.response(200, MembersAdded)
def add_members(body, group_id):
    """Add users by id or by email. If any is unknown nothing changes and the 400 lists them."""
    change = memberships.add_members(
        runtime(),
        tenant_id(),
        group_id,
        user_ids=body.get("user_ids", ()),
        emails=body.get("emails", ()),
        actor=actor(),
        invite=body["invite"],
    )
    return {"added": change.added_count, "already_members": change.already_members}


@blp.delete("/groups/<int:group_id>/members/<int:user_id>")
@blp.response(204)
def remove_member(group_id, user_id):
    """Remove one member (404 when the user is not a member of the group)."""
    memberships.remove_member(runtime(), tenant_id(), group_id, user_id, actor())


@blp.post("/groups/<int:group_id>/members/copy")
@blp.arguments(CopyMembers)
@blp.response(202, OperationAccepted)
def copy_members(body, group_id):
    """Copy every member of another group into this one, in the background; follow the Operation."""
    op = memberships.request_copy(runtime(), tenant_id(), group_id, body["from_group_id"], actor())
    return {"operation_id": op.id}
