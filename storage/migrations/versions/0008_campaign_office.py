"""campaign office: the coordinating office's name, its contact line and the launch letter

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-03 14:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('office_name', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('office_contact', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('office_letter', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('office_letter')
        batch_op.drop_column('office_contact')
        batch_op.drop_column('office_name')
