"""imports and staged import rows

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 00:27:43.793285
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import provisioning.models.base

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('imports',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('all_or_nothing', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('filename', sa.String(length=400), nullable=True),
    sa.Column('encoding', sa.String(length=40), nullable=True),
    sa.Column('delimiter', sa.String(length=4), nullable=True),
    sa.Column('group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('group_name', sa.String(length=400), nullable=True),
    sa.Column('column_mapping', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('entry_count', sa.Integer(), nullable=False),
    sa.Column('summary', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('operation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=True),
    sa.Column('created_at', provisioning.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', provisioning.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_imports_group_id_groups'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['operation_id'], ['operations.id'], name=op.f('fk_imports_operation_id_operations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_imports_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imports'))
    )
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.create_index('ix_imports_tenant_created', ['tenant_id', 'created_at'], unique=False)

    op.create_table('import_rows',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('import_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('group_name', sa.String(length=400), nullable=True),
    sa.Column('column_name', sa.String(length=200), nullable=True),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('username', sa.String(length=320), nullable=True),
    sa.Column('given_name', sa.String(length=200), nullable=True),
    sa.Column('family_name', sa.String(length=200), nullable=True),
    sa.Column('display_name', sa.String(length=400), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=True),
    sa.Column('language', sa.String(length=100), nullable=True),
    sa.Column('locale', sa.String(length=100), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('department', sa.String(length=200), nullable=True),
    sa.Column('organization', sa.String(length=200), nullable=True),
    sa.Column('division', sa.String(length=200), nullable=True),
    sa.Column('cost_center', sa.String(length=200), nullable=True),
    sa.Column('employee_number', sa.String(length=100), nullable=True),
    sa.Column('external_id', sa.String(length=320), nullable=True),
    sa.Column('user_type', sa.String(length=100), nullable=True),
    sa.Column('custom_attributes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_import_rows_import_id_imports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_rows'))
    )
    with op.batch_alter_table('import_rows', schema=None) as batch_op:
        batch_op.create_index('ix_import_rows_import_id', ['import_id', 'id'], unique=False)
        batch_op.create_index('ix_import_rows_import_status', ['import_id', 'status'], unique=False)
        batch_op.create_index('ix_import_rows_import_pair', ['import_id', 'group_id', 'user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('import_rows', schema=None) as batch_op:
        batch_op.drop_index('ix_import_rows_import_pair')
        batch_op.drop_index('ix_import_rows_import_status')
        batch_op.drop_index('ix_import_rows_import_id')

    op.drop_table('import_rows')
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.drop_index('ix_imports_tenant_created')

    op.drop_table('imports')
