"""email_stencils: a batch's email rendered once per language; outbox rows keep only what is personal

A bulk add queued 100,000 invitation emails of ~1 KB each, identical but for the name and the join
link.  Now each language's rendering is one ``email_stencils`` row and each ``email_messages`` row
points at it with its personal values (``personal``); the sender fills it in, signs the link, and
records the bodies it sent (provisioning/mail/outbox.py).  Existing rows keep their bodies and are
sent as before (``stencil_id`` null): nothing to convert.

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import provisioning.models.base

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

JsonDoc = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
DOWNGRADED = (
    "Cancelled by a schema downgrade before it was sent: its join link is signed when it is sent, "
    "which the older schema cannot do. Resend the invitation."
)


def upgrade() -> None:
    op.create_table(
        'email_stencils',
        sa.Column('id', BigId, nullable=False),
        sa.Column('tenant_id', BigId, nullable=False),
        sa.Column('template', sa.String(length=50), nullable=False),
        sa.Column('language', sa.String(length=35), nullable=False),
        sa.Column('subject', sa.String(length=400), nullable=False),
        sa.Column('text_body', sa.Text(), nullable=False),
        sa.Column('html_body', sa.Text(), nullable=False),
        sa.Column('created_at', provisioning.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_email_stencils_tenant_id_tenants'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_email_stencils')),
    )
    with op.batch_alter_table('email_stencils', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_stencils_tenant_id'), ['tenant_id'], unique=False)
    with op.batch_alter_table('email_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stencil_id', BigId, nullable=True))
        batch_op.add_column(sa.Column('personal', JsonDoc, nullable=True))
        batch_op.alter_column('text_body', existing_type=sa.Text(), nullable=True)
        batch_op.alter_column('html_body', existing_type=sa.Text(), nullable=True)
    # No foreign key from stencil_id (see provisioning/models/email.py): its per-row trigger was 40% of
    # a bulk add's outbox INSERT; stencils are written with their messages and go with their tenant.


def downgrade() -> None:
    # Messages never attempted have no body of their own: they take their stencil's (marks and all), and
    # the ones still waiting are cancelled, since the older sender could not sign their join links.
    stencil = "(SELECT s.{part} FROM email_stencils s WHERE s.id = email_messages.stencil_id)"
    op.execute(
        sa.text(
            f"UPDATE email_messages SET text_body = {stencil.format(part='text_body')}, "
            f"html_body = {stencil.format(part='html_body')}, "
            "last_error = CASE WHEN status IN ('queued', 'sending') THEN :why ELSE last_error END, "
            "status = CASE WHEN status IN ('queued', 'sending') THEN 'cancelled' ELSE status END "
            "WHERE text_body IS NULL"
        ).bindparams(why=DOWNGRADED)
    )
    with op.batch_alter_table('email_messages', schema=None) as batch_op:
        batch_op.alter_column('text_body', existing_type=sa.Text(), nullable=False)
        batch_op.alter_column('html_body', existing_type=sa.Text(), nullable=False)
        batch_op.drop_column('personal')
        batch_op.drop_column('stencil_id')
    with op.batch_alter_table('email_stencils', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_stencils_tenant_id'))
    op.drop_table('email_stencils')
