"""walk state, evidence and start throttling

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 04:26:19.137537
"""

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('start_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('telegram_user_id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_start_failures'))
    )
    with op.batch_alter_table('start_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_start_failures_telegram_user_id'), ['telegram_user_id'], unique=False)

    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('file_id', sa.String(length=200), nullable=True),
    sa.Column('file_unique_id', sa.String(length=100), nullable=True),
    sa.Column('file_name', sa.String(length=300), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('mime_type', sa.String(length=120), nullable=True),
    sa.Column('reference', sa.JSON(), nullable=True),
    sa.Column('local_path', sa.String(length=500), nullable=True),
    sa.Column('uploaded_by', sa.BigInteger(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_evidence_agency_id_agencies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence'))
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_agency_id'), ['agency_id'], unique=False)

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('current_question', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('prompt_token', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('menu_token', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('draft', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('draft')
        batch_op.drop_column('menu_token')
        batch_op.drop_column('prompt_token')
        batch_op.drop_column('current_question')

    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_agency_id'))

    op.drop_table('evidence')
    with op.batch_alter_table('start_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_start_failures_telegram_user_id'))

    op.drop_table('start_failures')
