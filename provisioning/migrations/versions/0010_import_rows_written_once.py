"""Staged import rows are written once: drop the indexes the job's status updates paid for; enrollments.

The apply job no longer rewrites every staged row (user ids are resolved while staging, and a
row the checkpoint has passed counts as applied), so the indexes on (import_id, status) and
(import_id, group_id, user_id) only slowed the staging down.  A partial index keeps the error
listing fast.  The foreign key from import_rows to imports goes too: PostgreSQL checks it
with a trigger call per staged row (half the cost of staging a file); a trigger on imports
deletes an import's rows instead, so a deleted import (or tenant) still takes its rows along.
The enrollments format stages its course, role, status and completion date.

Revision ID: 0010
Revises: 0009
"""
import warnings

import sqlalchemy as sa
from alembic import op

import provisioning.models.base

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


CASCADE_PG = """
CREATE FUNCTION import_rows_cascade() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM import_rows WHERE import_id = OLD.id;
    RETURN OLD;
END $$;
CREATE TRIGGER imports_delete_rows AFTER DELETE ON imports FOR EACH ROW EXECUTE FUNCTION import_rows_cascade();
"""
CASCADE_SQLITE = """
CREATE TRIGGER imports_delete_rows AFTER DELETE ON imports FOR EACH ROW
BEGIN DELETE FROM import_rows WHERE import_id = OLD.id; END
"""


def upgrade() -> None:
    # SQLite recreates the table, reflecting the tables it refers to (groups' expression index warns).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        with op.batch_alter_table('import_rows', schema=None) as batch_op:
            batch_op.drop_constraint('fk_import_rows_import_id_imports', type_='foreignkey')
            batch_op.drop_index('ix_import_rows_import_pair')
            batch_op.drop_index('ix_import_rows_import_status')
            batch_op.add_column(sa.Column('course_ref', sa.String(length=320), nullable=True))
            batch_op.add_column(sa.Column('enrollment_role', sa.String(length=100), nullable=True))
            batch_op.add_column(sa.Column('enrollment_status', sa.String(length=20), nullable=True))
            batch_op.add_column(sa.Column('completed_at', provisioning.models.base.UTCDateTime(timezone=True),
                                          nullable=True))
    op.create_index('ix_import_rows_errors', 'import_rows', ['import_id', 'row_no'], unique=False,
                    postgresql_where=sa.text("status = 'error'"), sqlite_where=sa.text("status = 'error'"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CASCADE_PG)
    else:
        op.execute(CASCADE_SQLITE)


def downgrade() -> None:
    op.execute("DROP TRIGGER imports_delete_rows ON imports" if op.get_bind().dialect.name == "postgresql"
               else "DROP TRIGGER imports_delete_rows")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION import_rows_cascade()")
    op.drop_index('ix_import_rows_errors', table_name='import_rows')
    with warnings.catch_warnings(), op.batch_alter_table('import_rows', schema=None) as batch_op:
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        batch_op.drop_column('completed_at')
        batch_op.drop_column('enrollment_status')
        batch_op.drop_column('enrollment_role')
        batch_op.drop_column('course_ref')
        batch_op.create_index('ix_import_rows_import_status', ['import_id', 'status'], unique=False)
        batch_op.create_index('ix_import_rows_import_pair', ['import_id', 'group_id', 'user_id'], unique=False)
        batch_op.create_foreign_key('fk_import_rows_import_id_imports', 'imports', ['import_id'], ['id'],
                                    ondelete='CASCADE')
