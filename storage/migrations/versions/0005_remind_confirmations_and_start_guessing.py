"""remind confirmations and the global limit on start guessing

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 13:00:00
"""

from alembic import op
import sqlalchemy as sa



revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('start_failure_windows',
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('window_start', name=op.f('pk_start_failure_windows'))
    )
    op.create_table('remind_confirmations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('telegram_user_id', sa.BigInteger(), nullable=False),
    sa.Column('scope_agency_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_remind_confirmations_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scope_agency_id'], ['agencies.id'], name=op.f('fk_remind_confirmations_scope_agency_id_agencies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remind_confirmations')),
    sa.UniqueConstraint('token', name=op.f('uq_remind_confirmations_token'))
    )
    with op.batch_alter_table('remind_confirmations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remind_confirmations_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_remind_confirmations_expires_at'), ['expires_at'], unique=False)

    with op.batch_alter_table('start_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_start_failures_at'), ['at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('start_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_start_failures_at'))

    with op.batch_alter_table('remind_confirmations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remind_confirmations_expires_at'))
        batch_op.drop_index(batch_op.f('ix_remind_confirmations_campaign_id'))

    op.drop_table('remind_confirmations')
    op.drop_table('start_failure_windows')
