"""lti registrations keys nonces links

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:27:10.383659
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import provisioning.models.base

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lti_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kid', sa.String(length=100), nullable=False),
    sa.Column('private_pem', sa.Text(), nullable=False),
    sa.Column('public_jwk', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', provisioning.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('retired_at', provisioning.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_until', provisioning.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_keys')),
    sa.UniqueConstraint('kid', name=op.f('uq_lti_keys_kid'))
    )
    op.create_table('lti_registrations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('issuer', sa.String(length=400), nullable=False),
    sa.Column('client_id', sa.String(length=400), nullable=False),
    sa.Column('auth_login_url', sa.String(length=1000), nullable=False),
    sa.Column('auth_token_url', sa.String(length=1000), nullable=False),
    sa.Column('auth_audience', sa.String(length=1000), nullable=True),
    sa.Column('key_set_url', sa.String(length=1000), nullable=False),
    sa.Column('platform_jwks', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('platform_jwks_fetched_at', provisioning.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', provisioning.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_lti_registrations_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_registrations')),
    sa.UniqueConstraint('issuer', 'client_id', name='uq_lti_registrations_issuer_client')
    )
    with op.batch_alter_table('lti_registrations', schema=None) as batch_op:
        batch_op.create_index('ix_lti_registrations_tenant', ['tenant_id'], unique=False)

    op.create_table('course_groups',
    sa.Column('course_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_groups_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_course_groups_group_id_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_course_groups_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('course_id', 'group_id', name=op.f('pk_course_groups'))
    )
    with op.batch_alter_table('course_groups', schema=None) as batch_op:
        batch_op.create_index('ix_course_groups_group', ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_course_groups_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('lti_contexts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('registration_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('context_id', sa.String(length=320), nullable=False),
    sa.Column('course_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('memberships_url', sa.String(length=2000), nullable=True),
    sa.Column('differences_url', sa.String(length=2000), nullable=True),
    sa.Column('roster_group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('last_synced_at', provisioning.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', provisioning.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_lti_contexts_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['lti_registrations.id'], name=op.f('fk_lti_contexts_registration_id_lti_registrations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['roster_group_id'], ['groups.id'], name=op.f('fk_lti_contexts_roster_group_id_groups'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_lti_contexts_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_contexts')),
    sa.UniqueConstraint('registration_id', 'context_id', name='uq_lti_contexts_registration_context')
    )
    with op.batch_alter_table('lti_contexts', schema=None) as batch_op:
        batch_op.create_index('ix_lti_contexts_course', ['course_id'], unique=False)

    op.create_table('lti_deployments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('registration_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('deployment_id', sa.String(length=400), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', provisioning.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['lti_registrations.id'], name=op.f('fk_lti_deployments_registration_id_lti_registrations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_lti_deployments_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_deployments')),
    sa.UniqueConstraint('registration_id', 'deployment_id', name='uq_lti_deployments_registration_deployment')
    )
    with op.batch_alter_table('lti_deployments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_deployments_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('lti_nonces',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('registration_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('state', sa.String(length=100), nullable=False),
    sa.Column('nonce', sa.String(length=100), nullable=False),
    sa.Column('login_params', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', provisioning.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', provisioning.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', provisioning.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['registration_id'], ['lti_registrations.id'], name=op.f('fk_lti_nonces_registration_id_lti_registrations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_lti_nonces_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_nonces')),
    sa.UniqueConstraint('nonce', name=op.f('uq_lti_nonces_nonce')),
    sa.UniqueConstraint('state', name=op.f('uq_lti_nonces_state'))
    )
    with op.batch_alter_table('lti_nonces', schema=None) as batch_op:
        batch_op.create_index('ix_lti_nonces_expires', ['expires_at'], unique=False)

    op.create_table('lti_roster_seen',
    sa.Column('operation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['operation_id'], ['operations.id'], name=op.f('fk_lti_roster_seen_operation_id_operations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_lti_roster_seen_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_lti_roster_seen_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('operation_id', 'user_id', name=op.f('pk_lti_roster_seen'))
    )
    op.create_table('lti_user_links',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('issuer', sa.String(length=400), nullable=False),
    sa.Column('sub', sa.String(length=400), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', provisioning.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_lti_user_links_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_lti_user_links_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_user_links')),
    sa.UniqueConstraint('tenant_id', 'issuer', 'sub', name='uq_lti_user_links_tenant_issuer_sub')
    )
    with op.batch_alter_table('lti_user_links', schema=None) as batch_op:
        batch_op.create_index('ix_lti_user_links_user', ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('lti_user_links', schema=None) as batch_op:
        batch_op.drop_index('ix_lti_user_links_user')

    op.drop_table('lti_user_links')
    op.drop_table('lti_roster_seen')
    with op.batch_alter_table('lti_nonces', schema=None) as batch_op:
        batch_op.drop_index('ix_lti_nonces_expires')

    op.drop_table('lti_nonces')
    with op.batch_alter_table('lti_deployments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_deployments_tenant_id'))

    op.drop_table('lti_deployments')
    with op.batch_alter_table('lti_contexts', schema=None) as batch_op:
        batch_op.drop_index('ix_lti_contexts_course')

    op.drop_table('lti_contexts')
    with op.batch_alter_table('course_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_groups_tenant_id'))
        batch_op.drop_index('ix_course_groups_group')

    op.drop_table('course_groups')
    with op.batch_alter_table('lti_registrations', schema=None) as batch_op:
        batch_op.drop_index('ix_lti_registrations_tenant')

    op.drop_table('lti_registrations')
    op.drop_table('lti_keys')
