"""audit log: every agency's hash-chained record of changes

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-03 16:20:00

Existing rows get no chain: their receipts keep the answers' hash they were given and ``cqdt audit check``
still finds them in ``submissions.receipt_hash``; a chain starts with the next change.
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'audit_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('question_id', sa.String(length=40), nullable=True),
        sa.Column('data', sa.JSON(), nullable=True),
        sa.Column('by', sa.BigInteger(), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('prev_hash', sa.String(length=64), nullable=True),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_audit_entries_agency_id_agencies'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries')),
        sa.UniqueConstraint('agency_id', 'seq', name=op.f('uq_audit_entries_agency_id')),
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_hash'), ['hash'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_hash'))
    op.drop_table('audit_entries')
