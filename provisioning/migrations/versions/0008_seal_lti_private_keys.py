"""LTI tool private keys sealed at rest: lti_keys.private_pem (clear PEM) becomes private_key_sealed.

The key that seals them is derived from SECRET_KEY (provisioning.lti.jwk.seal_private_pem), so sealing the
rows already there needs the secret: ``provisioning db upgrade`` passes it, or SECRET_KEY is
read from the environment.

Revision ID: 0008
Revises: 0007
"""
import os

import sqlalchemy as sa
from alembic import context, op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

keys = sa.table('lti_keys', sa.column('id', sa.BigInteger), sa.column('private_pem', sa.Text),
                sa.column('private_key_sealed', sa.Text))


def _secret() -> str:
    secret = context.config.attributes.get('secret_key') or os.environ.get('SECRET_KEY', '').strip()
    if not secret:
        raise RuntimeError('Sealing the stored LTI keys needs SECRET_KEY: set it, or run `provisioning db upgrade`.')
    return secret


def upgrade() -> None:
    from provisioning.lti.jwk import seal_private_pem

    bind = op.get_bind()
    # One row per key ever made (a rotation adds one): a handful, so row by row is fine.
    rows = bind.execute(sa.select(keys.c.id, keys.c.private_pem)).all()
    secret = _secret() if rows else ''  # before any DDL: SQLite would keep half a migration
    with op.batch_alter_table('lti_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('private_key_sealed', sa.Text(), nullable=True))
    if rows:
        for key_id, pem in rows:
            bind.execute(keys.update().where(keys.c.id == key_id)
                         .values(private_key_sealed=seal_private_pem(secret, pem)))
    with op.batch_alter_table('lti_keys', schema=None) as batch_op:
        batch_op.alter_column('private_key_sealed', existing_type=sa.Text(), nullable=False)
        batch_op.drop_column('private_pem')


def downgrade() -> None:
    from provisioning.lti.jwk import open_private_pem

    bind = op.get_bind()
    rows = bind.execute(sa.select(keys.c.id, keys.c.private_key_sealed)).all()
    secret = _secret() if rows else ''
    with op.batch_alter_table('lti_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('private_pem', sa.Text(), nullable=True))
    if rows:
        for key_id, sealed in rows:
            bind.execute(keys.update().where(keys.c.id == key_id).values(private_pem=open_private_pem(secret, sealed)))
    with op.batch_alter_table('lti_keys', schema=None) as batch_op:
        batch_op.alter_column('private_pem', existing_type=sa.Text(), nullable=False)
        batch_op.drop_column('private_key_sealed')
