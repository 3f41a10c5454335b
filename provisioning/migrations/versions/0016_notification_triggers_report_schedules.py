"""Automatic notifications and scheduled reports (issue 17 items 3 and 4)

notification_triggers: a tenant's on/off switch and templates per trigger.  email_messages gets
the trigger that sent it and a dedupe key, unique per tenant, so a replayed event adds no email.
report_schedules: reports the workers run every day, week or month.

Revision ID: 0016
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0016'
down_revision = '0013'
branch_labels = None
depends_on = None

JsonDoc = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'notification_triggers',
        sa.Column('tenant_id', BigId, nullable=False),
        sa.Column('trigger', sa.String(length=30), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('templates', JsonDoc, nullable=False),
        sa.Column('updated_by', sa.String(length=200), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_notification_triggers_tenant_id_tenants'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id', 'trigger', name=op.f('pk_notification_triggers')),
    )
    op.create_table(
        'report_schedules',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('tenant_id', BigId, nullable=False),
        sa.Column('report_type', sa.String(length=30), nullable=False),
        sa.Column('group_id', BigId, nullable=False),
        sa.Column('frequency', sa.String(length=20), nullable=False),
        sa.Column('recipients', JsonDoc, nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('next_run_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_operation_id', BigId, nullable=True),
        sa.Column('created_by', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_report_schedules_tenant_id_tenants'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_report_schedules_group_id_groups'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['last_operation_id'], ['operations.id'],
                                name=op.f('fk_report_schedules_last_operation_id_operations'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_schedules')),
    )
    op.create_index('ix_report_schedules_tenant_id', 'report_schedules', ['tenant_id'])
    op.create_index('ix_report_schedules_due', 'report_schedules', ['enabled', 'next_run_at'])
    with op.batch_alter_table('email_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trigger', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('dedupe_key', sa.String(length=400), nullable=True))
        batch_op.create_index('uq_email_messages_tenant_dedupe', ['tenant_id', 'dedupe_key'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('email_messages', schema=None) as batch_op:
        batch_op.drop_index('uq_email_messages_tenant_dedupe')
        batch_op.drop_column('dedupe_key')
        batch_op.drop_column('trigger')
    op.drop_index('ix_report_schedules_due', table_name='report_schedules')
    op.drop_index('ix_report_schedules_tenant_id', table_name='report_schedules')
    op.drop_table('report_schedules')
    op.drop_table('notification_triggers')
