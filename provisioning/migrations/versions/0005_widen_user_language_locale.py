"""widen users.language and users.locale to 100 characters

SCIM's preferredLanguage and locale are free strings (RFC 7643 §4.1.1); RFC 5646 §4.4.1
sets 35 characters as the minimum a language tag buffer must hold, not a maximum.
SQLite does not enforce VARCHAR lengths, so only PostgreSQL needs the change.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in ("language", "locale"):
            op.alter_column("users", column, type_=sa.String(length=100), existing_type=sa.String(length=35),
                            existing_nullable=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in ("language", "locale"):
            op.alter_column("users", column, type_=sa.String(length=35), existing_type=sa.String(length=100),
                            existing_nullable=True)
