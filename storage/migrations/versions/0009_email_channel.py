"""e-mail channel: outbox rows by e-mail, coordinators' e-mail addresses on their invitations

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-03 15:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=10), server_default='telegram', nullable=False))
        batch_op.add_column(sa.Column('email', sa.String(length=200), nullable=True))
        batch_op.alter_column('telegram_user_id', existing_type=sa.BigInteger(), nullable=True)
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('language_code', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_column('language_code')
        batch_op.drop_column('email')
    op.execute("DELETE FROM notifications WHERE channel = 'email'")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('telegram_user_id', existing_type=sa.BigInteger(), nullable=False)
        batch_op.drop_column('email')
        batch_op.drop_column('channel')
