"""The enrollments format: email | user_id, course_id (the course's external id), role, status, completed_at."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from provisioning.activity import Actor
from provisioning.i18n import N_, Message
from provisioning.imports import enrollments
from provisioning.imports.formats.base import ImportFormat
from provisioning.imports.formats.columns import COURSE, EMAIL, ENROLLMENT_FIELDS, Layout, norm
from provisioning.imports.formats.entries import MAX_LENGTH, Entry, email_of, error
from provisioning.models import ENROLLMENT_STATUSES
from provisioning.models.imports import Import, ImportRow
from provisioning.roles import stored_course_role
from provisioning.runtime import Runtime
from provisioning.services.courses import parse_when


class EnrollmentsFormat(ImportFormat):
    name = "enrollments"
    example_header = ("email", "user_id", "course_id", "role", "status", "completed_at")
    example_rows = (
        ("ada@example.com", "", "driver-safety", "Learner", "completed", "2024-05-31T12:00:00Z"),
        ("", "42", "driver-safety", "Learner", "in_progress", ""),
    )
    detect_priority = 2
    staged_columns = ("course_ref", "enrollment_role", "enrollment_status", "completed_at", "user_id")
    applied_messages = ("Enrolled.", "Enrolled.")
    duplicate_what = N_("this user and course")

    def detects(self, keys: list[str], *, has_group_target: bool) -> bool:
        return any(k in COURSE for k in keys)

    def layout(self, header: list[str], mapping: dict[str, Any], custom: frozenset[str]) -> Layout:
        """email or user_id, course_id (the course's external id), and optional role, status, completed_at."""
        layout = Layout("enrollments", len(header), header)
        for i, h in enumerate(header):
            key = norm(h)
            if key in EMAIL and layout.email_col is None:
                layout.email_col = i
            elif key in ENROLLMENT_FIELDS and ENROLLMENT_FIELDS[key] not in layout.user_cols:
                layout.user_cols[ENROLLMENT_FIELDS[key]] = i
            elif key:
                layout.warnings.append(
                    Message(N_("Column %(column)r is not part of an enrollment list and was ignored."), column=h)
                )
        if layout.email_col is None and "user_id" not in layout.user_cols:
            raise self.file_error(N_("The header has neither an 'email' nor a 'user_id' column."))
        if "course" not in layout.user_cols:
            raise self.file_error(N_("The header has no 'course_id' column (the course's external id)."))
        return layout

    def entries(self, layout: Layout, row_no: int, cells: list[str]) -> list[Entry]:
        """email or user_id, course (external id), role, status (default enrolled), completed_at (ISO 8601)."""
        cols = layout.user_cols
        entry: Entry = {"row_no": row_no, "status": "ok"}
        email_cell = cells[layout.email_col] if layout.email_col is not None else ""
        id_cell = cells[cols["user_id"]] if "user_id" in cols else ""
        if email_cell:
            assert layout.email_col is not None
            email, err = email_of(layout, row_no, email_cell, layout.email_col)
            if err:
                return [err]
            entry["email"] = email
        elif id_cell:
            if not id_cell.isdigit() or not 0 < int(id_cell) < 2**63:
                return [
                    error(row_no, layout.header[cols["user_id"]], id_cell, N_("A user_id is a positive whole number."))
                ]
            entry["user_id"] = int(id_cell)
        else:
            column = layout.header[layout.email_col if layout.email_col is not None else cols["user_id"]]
            return [error(row_no, column, "", N_("Give the user's email or user_id."))]
        course = cells[cols["course"]]
        if not course or len(course) > MAX_LENGTH["course_ref"]:
            return [
                error(
                    row_no,
                    layout.header[cols["course"]],
                    course,
                    N_("Give the course's external id (at most 320 characters)."),
                    email=entry.get("email"),
                )
            ]
        entry["course_ref"] = course
        for name, column, check in (
            ("role", "enrollment_role", _enrollment_role),
            ("status", "enrollment_status", _enrollment_status),
            ("completed_at", "completed_at", _completed_at),
        ):
            if name in cols and cells[cols[name]]:
                value, message = check(cells[cols[name]])
                if message:
                    return [
                        error(row_no, layout.header[cols[name]], cells[cols[name]], message, email=entry.get("email"))
                    ]
                entry[column] = value
        entry.setdefault("enrollment_status", "enrolled")
        return [entry]

    def mark_staged(self, s: Session, imp: Import, email_header: str | None, *, just_staged: bool) -> None:
        enrollments.validate_enrollments(s, imp)

    def duplicate_keys(self, email: Any) -> list[Any]:
        return [ImportRow.user_id, ImportRow.course_ref]

    def apply_chunk(
        self, rt: Runtime, s: Session, imp: Import, chunk: ColumnElement[bool], ok: int, actor: Actor
    ) -> dict[str, int]:
        return enrollments.apply_enrollments_chunk(rt, s, imp, chunk, ok, actor)


def _enrollment_role(value: str) -> tuple[Any, str | None]:
    if len(value) > MAX_LENGTH["enrollment_role"]:
        return None, "At most 100 characters."
    return stored_course_role(value), None


def _enrollment_status(value: str) -> tuple[Any, str | None]:
    status = value.lower().replace(" ", "_").replace("-", "_")
    if status not in ENROLLMENT_STATUSES:
        return None, f"The status must be one of {', '.join(ENROLLMENT_STATUSES)}."
    return status, None


def _completed_at(value: str) -> tuple[Any, str | None]:
    try:
        return parse_when(value), None
    except (TypeError, ValueError):
        return None, "Not a date: write an ISO 8601 date or date-time, like 2024-05-31 or 2024-05-31T12:00:00Z."
