"""CSV/XLSX imports: the previewed file, staged row by row so a commit applies exactly what was shown.

An :class:`Import` is the parsed file and its options; :class:`ImportRow` holds one *entry*
per change the file asks for (one member of one group, or one user to create or update),
or one error.  A row of a group-based file with five emails stages five entries sharing its
``row_no``.  The job that applies the import walks the entries in id order, one chunk at a time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from provisioning.models.base import Base, BigId, JsonDoc, UTCDateTime, utcnow

IMPORT_FORMATS = ("members", "user-groups", "group-users", "users", "enrollments")
IMPORT_MODES = ("add", "replace")
IMPORT_STATUSES = ("previewed", "committed", "applied", "cancelled", "failed")
# ok: valid; once the job's checkpoint has passed the row, "ok" means applied (the report derives it, so
# the job never rewrites the rows it applies).  skipped (nothing to change) / error are written by the job
# for the few rows they concern; excluded by PATCH.  "applied" is what imports of earlier versions wrote.
ROW_STATUSES = ("ok", "error", "excluded", "applied", "skipped")

# User attributes the "users" format stages in their own columns, so applying is INSERT ... SELECT.
STAGED_USER_FIELDS = (
    "username",
    "given_name",
    "family_name",
    "display_name",
    "role",
    "language",
    "locale",
    "timezone",
    "title",
    "department",
    "organization",
    "division",
    "cost_center",
    "employee_number",
    "external_id",
    "user_type",
)


class Import(Base):
    __tablename__ = "imports"
    __table_args__ = (Index("ix_imports_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    format: Mapped[str] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(20), default="add")
    all_or_nothing: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="previewed")
    filename: Mapped[str | None] = mapped_column(String(400))
    encoding: Mapped[str | None] = mapped_column(String(40))
    delimiter: Mapped[str | None] = mapped_column(String(4))
    # members format: the existing target group, or the name of the group to create.
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    group_name: Mapped[str | None] = mapped_column(String(400))
    column_mapping: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    row_count: Mapped[int] = mapped_column(default=0)
    entry_count: Mapped[int] = mapped_column(default=0)
    # The preview as last computed (groups, users_matched, error count, warnings).
    summary: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("operations.id", ondelete="SET NULL"))
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ImportRow(Base):
    __tablename__ = "import_rows"
    # Chunks are id ranges of one import.  Every other index costs each staged row a write, so the
    # only other one is partial: the (few) error rows, listed in file order.  No index on email: an
    # index the planner could pick for "import_id = ?" would turn each chunk into a full scan.
    __table_args__ = (
        Index("ix_import_rows_import_id", "import_id", "id"),
        Index(
            "ix_import_rows_errors",
            "import_id",
            "row_no",
            postgresql_where=text("status = 'error'"),
            sqlite_where=text("status = 'error'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # No foreign key: PostgreSQL would check it with a trigger call per staged row.  A trigger on
    # imports deletes an import's rows with it (migration 0010).
    import_id: Mapped[int] = mapped_column(BigId)
    row_no: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="ok")
    # The email's identity key (provisioning/identity_keys.py); matched against users.email_key.
    email: Mapped[str | None] = mapped_column(String(320))
    group_name: Mapped[str | None] = mapped_column(String(400))
    column_name: Mapped[str | None] = mapped_column(String(200))
    value: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)
    username: Mapped[str | None] = mapped_column(String(320))
    username_key: Mapped[str | None] = mapped_column(String(320))  # identity_key(username), the users format
    given_name: Mapped[str | None] = mapped_column(String(200))
    family_name: Mapped[str | None] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(400))
    role: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str | None] = mapped_column(String(100))
    locale: Mapped[str | None] = mapped_column(String(100))
    timezone: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(200))
    organization: Mapped[str | None] = mapped_column(String(200))
    division: Mapped[str | None] = mapped_column(String(200))
    cost_center: Mapped[str | None] = mapped_column(String(200))
    employee_number: Mapped[str | None] = mapped_column(String(100))
    external_id: Mapped[str | None] = mapped_column(String(320))
    user_type: Mapped[str | None] = mapped_column(String(100))
    custom_attributes: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc, default=None)
    # The user the email named when the file was staged (no foreign keys: a staging table).
    user_id: Mapped[int | None] = mapped_column(BigId)
    group_id: Mapped[int | None] = mapped_column(BigId)  # unused since 0010 (groups are joined by name)
    # The enrollments format: the course's external id, the enrollment's role, status and completion date.
    course_ref: Mapped[str | None] = mapped_column(String(320))
    enrollment_role: Mapped[str | None] = mapped_column(String(100))
    enrollment_status: Mapped[str | None] = mapped_column(String(20))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
