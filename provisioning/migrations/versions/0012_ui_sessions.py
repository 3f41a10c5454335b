"""ui_sessions: server-side UI sessions, so sign-out, deactivation, deletion and a role change end them

Every UI launch token names a row here; a request is served only while its row is not ended,
its user still exists, is not deactivated and has the role the session began with.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

import provisioning.models.base

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ui_sessions',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.Column('user_role', sa.String(length=20), nullable=True),
        sa.Column('created_at', provisioning.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', provisioning.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('ended_at', provisioning.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('ended_reason', sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_ui_sessions_tenant_id_tenants'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ui_sessions')),
    )
    with op.batch_alter_table('ui_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_ui_sessions_user', ['user_id'], unique=False)
        batch_op.create_index('ix_ui_sessions_tenant_expires', ['tenant_id', 'expires_at'], unique=False)


def downgrade() -> None:
    op.drop_table('ui_sessions')
