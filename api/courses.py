"""/api/v1/courses and /api/v1/enrollments: courses, and users' enrollments one at a time or as a list."""

from __future__ import annotations

from datetime import UTC

from flask import jsonify, request
from flask_smorest import abort
from marshmallow import Schema, ValidationError, fields, validate

from api.auth import actor, require_admin, runtime, tenant_id
from api.schemas import Blueprint, PageQuery, StrictSchema, page_schema
from provisioning.models import ENROLLMENT_STATUSES
from provisioning.services import courses
from provisioning.text import text_problem

blp = Blueprint("courses", __name__, description="Courses and enrollments (automatic group rules can test them).")
require_admin(blp)


class CourseSchema(Schema):
    id = fields.Integer(dump_only=True)
    external_id = fields.String()
    title = fields.String(allow_none=True)
    created_at = fields.DateTime()


class CourseCreate(StrictSchema):
    external_id = fields.String(
        required=True,
        validate=validate.Length(min=1, max=320),
        metadata={"description": "The LMS context id, or any id unique in the tenant."},
    )
    title = fields.String(allow_none=True, validate=validate.Length(max=400))


def _storable(value: str) -> None:
    # Enrollments arrive as a list, outside the blueprint's argument parser that refuses these.
    problem = text_problem(value)
    if problem:
        raise ValidationError(f"The text {problem}.")


class EnrollmentIn(StrictSchema):
    email = fields.String(validate=[validate.Length(min=1, max=320), _storable])
    user_id = fields.Integer(strict=True, validate=validate.Range(min=1, max=2**63 - 1))
    course_id = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=320), _storable],
        metadata={"description": "The course's external id."},
    )
    role = fields.String(allow_none=True, validate=[validate.Length(max=100), _storable])
    status = fields.String(load_default="enrolled", validate=validate.OneOf(ENROLLMENT_STATUSES))
    completed_at = fields.AwareDateTime(
        default_timezone=UTC,
        allow_none=True,
        metadata={
            "description": "When the course was completed. Left out with status completed, it is the time of "
            "this change (an enrollment completed already keeps its completion time)."
        },
    )


class EnrollmentOut(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    course_id = fields.String(metadata={"description": "The course's external id."})
    role = fields.String(allow_none=True)
    status = fields.String()
    completed_at = fields.DateTime(allow_none=True)


class EnrollmentListed(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    course_id = fields.String(metadata={"description": "The course's external id."})
    course_title = fields.String(allow_none=True)
    role = fields.String(allow_none=True)
    status = fields.String()
    completed_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class EnrollmentsSaved(Schema):
    created = fields.Integer()
    updated = fields.Integer()
    users = fields.Integer()


@blp.post("/courses")
@blp.arguments(CourseCreate)
@blp.response(201, CourseSchema)
def create_course(body):
    """Create a course."""
    return courses.create_course(runtime(), tenant_id(), body["external_id"], body.get("title"), actor())


def _flatten(messages, prefix: str = "") -> dict[str, list[str]]:
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{path}."))
        else:
            flat[path] = value if isinstance(value, list) else [str(value)]
    return flat


@blp.post("/enrollments")
@blp.doc(
    requestBody={
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/EnrollmentIn"},
                        {"type": "array", "items": {"$ref": "#/components/schemas/EnrollmentIn"}},
                    ]
                }
            }
        },
    }
)
@blp.alt_response(201, schema=EnrollmentOut, description="One enrollment created or updated.")
@blp.alt_response(200, schema=EnrollmentsSaved, description="A list of enrollments created or updated.")
def enroll():
    """Enroll a user in a course (an object), or many (a list of objects; all or nothing).

    A user is named by ``email`` or ``user_id``; enrolling again updates role, status and
    completed_at.  Automatic groups are re-evaluated for the users enrolled.
    """
    data = request.get_json(silent=True)
    if not isinstance(data, (dict, list)):
        abort(400, messages={"json": ["The body must be an enrollment object or a JSON list of them."]})
    try:
        rows = EnrollmentIn(many=isinstance(data, list)).load(data)
    except ValidationError as err:
        abort(400, messages={"json": _flatten(err.messages)})
    if isinstance(data, list):
        result = courses.enroll_many(runtime(), tenant_id(), rows, actor())
        return jsonify(
            EnrollmentsSaved().dump(
                {"created": result.created, "updated": result.updated, "users": len(result.user_ids)}
            )
        ), 200
    enrollment = courses.enroll(runtime(), tenant_id(), rows, actor())
    return jsonify({**EnrollmentOut().dump(enrollment), "course_id": rows["course_id"]}), 201


@blp.get("/users/<int:user_id>/enrollments")
@blp.arguments(PageQuery, location="query")
@blp.response(200, page_schema(EnrollmentListed, "EnrollmentPage"))
def list_enrollments(args, user_id):
    """A user's enrollments (any status, whoever saved them: the LMS, the API, an import, the person page), by course."""
    page = courses.list_enrollments(runtime(), tenant_id(), user_id, page=args["page"], per_page=args["per_page"])
    return {"items": page.items, "total": page.total, "page": page.page, "per_page": page.per_page}
