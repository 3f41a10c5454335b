"""group_invitations: a manager's invitation to join one group, accepted through its single-use link

A group manager who adds someone outside their scope (or an email nobody has) sends an invitation;
the person joins the group only when they use its link (docs/PERMISSIONS.md, "Adding a person").

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

import provisioning.models.base

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'group_invitations',
        sa.Column('group_id', BIG, nullable=False),
        sa.Column('user_id', BIG, nullable=False),
        sa.Column('tenant_id', BIG, nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('sent_count', sa.Integer(), nullable=False),
        sa.Column('invited_by', sa.String(length=200), nullable=True),
        sa.Column('created_at', provisioning.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_sent_at', provisioning.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('accepted_at', provisioning.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['group_id'], ['groups.id'], name=op.f('fk_group_invitations_group_id_groups'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_group_invitations_user_id_users'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_group_invitations_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('group_id', 'user_id', name=op.f('pk_group_invitations')),
    )
    with op.batch_alter_table('group_invitations', schema=None) as batch_op:
        batch_op.create_index(
            'ix_group_invitations_tenant_group', ['tenant_id', 'group_id', 'status'], unique=False
        )


def downgrade() -> None:
    op.drop_table('group_invitations')
