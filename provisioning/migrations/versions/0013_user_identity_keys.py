"""users.username_key and users.email_key: userName and email unique by their Unicode identity key

The unique indexes on lower(username) and lower(email) let "dü" in NFC and in NFD, "ｄｕｐ"
(full-width) beside "dup", become separate users.  The keys (provisioning.identity_keys:
NFKC, case folded) are filled for the users already there, and the unique indexes move to
them.  Where two existing users already share a key (the defect let that happen), the older
one (lower id) keeps it and the younger is left without a key (NULL, outside the index) and
logged as a warning naming both ids, so an administrator can merge or rename them; nothing is
deleted.  import_rows gets username_key for the users format.

Revision ID: 0013
Revises: 0012
"""
import logging

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

log = logging.getLogger('alembic.runtime.migration')

users = sa.table('users', sa.column('id', sa.BigInteger), sa.column('tenant_id', sa.BigInteger),
                 sa.column('username', sa.String), sa.column('email', sa.String),
                 sa.column('username_key', sa.String), sa.column('email_key', sa.String))
BATCH = 5000


def upgrade() -> None:
    # The one normalisation function: a later change to it needs a migration of its own that re-keys.
    from provisioning.identity_keys import identity_key

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username_key', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('email_key', sa.String(length=320), nullable=True))
    with op.batch_alter_table('import_rows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username_key', sa.String(length=320), nullable=True))

    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(users.c.id, users.c.username, users.c.email)
            .where(users.c.id > last).order_by(users.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        bind.execute(
            users.update().where(users.c.id == sa.bindparam('b_id'))
            .values(username_key=sa.bindparam('u_key'), email_key=sa.bindparam('e_key')),
            [{'b_id': user_id,
              'u_key': identity_key(username)[:320] if username is not None else None,
              'e_key': identity_key(email)[:320] if email is not None else None}
             for user_id, username, email in rows],
        )
        last = rows[-1][0]
    for key in (users.c.username_key, users.c.email_key):
        clashes = bind.execute(
            sa.select(users.c.tenant_id, key, sa.func.min(users.c.id))
            .where(key.is_not(None)).group_by(users.c.tenant_id, key).having(sa.func.count() > 1)
        ).all()
        for tenant_id, value, keeper in clashes:
            younger = bind.execute(
                sa.update(users).where(users.c.tenant_id == tenant_id, key == value, users.c.id != keeper)
                .values({key.name: None}).returning(users.c.id)
            ).scalars().all()
            log.warning('tenant %s: users %s have the %s of user %s once normalised (NFKC, case folded); '
                        'they keep their %s but no %s until renamed', tenant_id, sorted(younger),
                        key.name.removesuffix('_key'), keeper, key.name.removesuffix('_key'), key.name)

    op.drop_index('uq_users_tenant_username', table_name='users')
    op.drop_index('uq_users_tenant_email', table_name='users')
    op.create_index('uq_users_tenant_username_key', 'users', ['tenant_id', 'username_key'], unique=True)
    op.create_index('uq_users_tenant_email_key', 'users', ['tenant_id', 'email_key'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_users_tenant_email_key', table_name='users')
    op.drop_index('uq_users_tenant_username_key', table_name='users')
    op.create_index('uq_users_tenant_username', 'users', ['tenant_id', sa.text('lower(username)')], unique=True)
    op.create_index('uq_users_tenant_email', 'users', ['tenant_id', sa.text('lower(email)')], unique=True)
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+ too): a batch copy of import_rows would trip its trigger.
    op.drop_column('import_rows', 'username_key')
    op.drop_column('users', 'email_key')
    op.drop_column('users', 'username_key')
