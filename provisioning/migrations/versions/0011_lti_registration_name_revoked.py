"""LTI registrations get a name (for the people who manage them) and a revocation time.

A revoked registration stays (its courses, users' links and audit trail refer to it), but its
launches and roster syncs are refused from the moment ``revoked_at`` is set.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

import provisioning.models.base

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('lti_registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', provisioning.models.base.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('lti_registrations', schema=None) as batch_op:
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('name')
