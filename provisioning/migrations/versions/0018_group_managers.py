"""group_managers: people an admin made managers of one group, with their permissions there

Course staff manage their courses' groups (course_groups + enrollments); this table adds managers
assigned to a group directly, each with a subset of the tenant's manager permission set.

Revision ID: 0018
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import provisioning.models.base

revision = '0018'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    big = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
    op.create_table(
        'group_managers',
        sa.Column('group_id', big, nullable=False),
        sa.Column('user_id', big, nullable=False),
        sa.Column('tenant_id', big, nullable=False),
        sa.Column('permissions', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                  nullable=False),
        sa.Column('assigned_by', sa.String(length=200), nullable=True),
        sa.Column('created_at', provisioning.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_group_managers_group_id_groups'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_group_managers_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_group_managers_tenant_id_tenants'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('group_id', 'user_id', name=op.f('pk_group_managers')),
    )
    with op.batch_alter_table('group_managers', schema=None) as batch_op:
        batch_op.create_index('ix_group_managers_user', ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_managers_tenant_id'), ['tenant_id'], unique=False)


def downgrade() -> None:
    op.drop_table('group_managers')
