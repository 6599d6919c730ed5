"""evidence links, and what each contact last saw of an answer a colleague may change

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-03 14:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seen", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("news_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("url", sa.String(length=2000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_column("url")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("news_at")
        batch_op.drop_column("seen")
