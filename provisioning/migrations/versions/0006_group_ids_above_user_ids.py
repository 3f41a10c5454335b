"""Group ids start at 2**40 so that user and group ids never collide.

RFC 7643 §3.1: a resource's "id" is unique across the service provider's entire set of
resources, so a root /.search for one id must find one resource.  Users and groups live in
two tables; giving groups their own range (above any user id a deployment can reach)
keeps ids plain integers everywhere else.

Revision ID: 0006
Revises: 0005
"""
import warnings

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

GROUP_ID_START = 2**40


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        current = bind.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM groups")).scalar()
        start = max(GROUP_ID_START, current + 1)
        op.execute(f"ALTER SEQUENCE groups_id_seq START WITH {GROUP_ID_START} RESTART WITH {start}")
    elif bind.dialect.name == "sqlite":
        # Only AUTOINCREMENT tables keep a sequence SQLite lets us seed.  The rebuild can't
        # reflect the expression index on lower(name), so it is dropped and made again.
        _rebuild_sqlite_groups(autoincrement=True)
        current = bind.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM groups")).scalar()
        seed = max(GROUP_ID_START - 1, current)
        op.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = 'groups'"))
        op.execute(sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('groups', :seq)").bindparams(seq=seed))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER SEQUENCE groups_id_seq START WITH 1")
    elif bind.dialect.name == "sqlite":
        _rebuild_sqlite_groups(autoincrement=False)


def _rebuild_sqlite_groups(*, autoincrement: bool) -> None:
    op.drop_index("uq_groups_tenant_name", table_name="groups")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        with op.batch_alter_table("groups", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}):
            pass
    op.create_index("uq_groups_tenant_name", "groups", ["tenant_id", sa.text("lower(name)")], unique=True)
