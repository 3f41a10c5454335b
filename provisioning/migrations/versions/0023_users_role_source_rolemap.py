"""users.role_source: whether a person's tenant role came from the identity provider's role map (issue 17 item 5)

"scim" when the tenant's ``scim_role_map`` gave the role (the identity provider may change it again), "admin"
for every other role (given by hand, or the default Learner), which the identity provider never changes.
Every existing role was given by hand.

Revision ID: 0023
Revises: 0022
"""
import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('role_source', sa.String(length=10), nullable=False, server_default='admin'))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('role_source')
