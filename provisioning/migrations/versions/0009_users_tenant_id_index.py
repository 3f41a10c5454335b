"""index users on (tenant_id, id): keyset scans of one tenant's users

Full rule evaluations and batch actions walk a tenant's users in id order, chunk by
chunk, and start from the tenant's last id.  With only the primary key, PostgreSQL scans
every user of the table in id order and filters by tenant: the last chunk of a tenant
with low ids walked the other tenants' users (a `max(id)` of one tenant took 200 ms
beside 200,000 other users in bench/).

Revision ID: 0009
Revises: 0008
"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_users_tenant_id_id", "users", ["tenant_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_users_tenant_id_id", table_name="users")
