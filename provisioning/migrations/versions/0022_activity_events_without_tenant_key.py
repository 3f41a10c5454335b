"""activity_events without a foreign key to tenants; a trigger on tenants deletes their events instead

Every bulk job writes its activity events with one ``INSERT ... SELECT`` per chunk (three events a
person in a bulk add).  PostgreSQL checks a foreign key with a trigger call per inserted row: about 40%
of each events INSERT in a bulk add of 100,000 people (bench/README.md).  Events are only ever written
for the tenant the job runs in, so the key guarded nothing a service could get wrong; what it did do,
take a deleted tenant's events with it, a trigger on tenants now does (as import_rows, migration 0010).

Revision ID: 0022
Revises: 0021
"""
import warnings

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

CASCADE_PG = """
CREATE FUNCTION activity_events_cascade() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM activity_events WHERE tenant_id = OLD.id;
    RETURN OLD;
END $$;
CREATE TRIGGER tenants_delete_activity AFTER DELETE ON tenants FOR EACH ROW EXECUTE FUNCTION activity_events_cascade();
"""
CASCADE_SQLITE = """
CREATE TRIGGER tenants_delete_activity AFTER DELETE ON tenants FOR EACH ROW
BEGIN DELETE FROM activity_events WHERE tenant_id = OLD.id; END
"""


def upgrade() -> None:
    # SQLite recreates the table, reflecting the tables it refers to (groups' expression index warns).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        with op.batch_alter_table('activity_events', schema=None) as batch_op:
            batch_op.drop_constraint('fk_activity_events_tenant_id_tenants', type_='foreignkey')
    op.execute(CASCADE_PG if op.get_bind().dialect.name == "postgresql" else CASCADE_SQLITE)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.execute("DROP TRIGGER tenants_delete_activity ON tenants" if postgresql else "DROP TRIGGER tenants_delete_activity")
    if postgresql:
        op.execute("DROP FUNCTION activity_events_cascade()")
        # Events of a tenant deleted meanwhile would stop the key from being added back.
        op.execute("DELETE FROM activity_events e WHERE NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = e.tenant_id)")
    with warnings.catch_warnings(), op.batch_alter_table('activity_events', schema=None) as batch_op:
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        batch_op.create_foreign_key('fk_activity_events_tenant_id_tenants', 'tenants', ['tenant_id'], ['id'],
                                    ondelete='CASCADE')
