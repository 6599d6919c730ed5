"""the cohort: a campaign's cohort can be frozen, and each submission says whether it belongs to it

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 15:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cohort_frozen_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('in_cohort', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('in_cohort')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('cohort_frozen_at')
