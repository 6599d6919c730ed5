"""office questions and guidance: contacts' questions to the office, its answers, and the published guidance

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 18:22:43

``coordinators.answering`` is the question a coordinator's next message answers (after its reply button).
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('office_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.String(length=40), nullable=False),
    sa.Column('asked_by', sa.BigInteger(), nullable=False),
    sa.Column('asker_name', sa.String(length=200), nullable=True),
    sa.Column('text', sa.String(length=1000), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer', sa.String(length=2000), nullable=True),
    sa.Column('answered_by', sa.BigInteger(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_by', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_office_questions_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_office_questions_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_questions'))
    )
    with op.batch_alter_table('office_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_office_questions_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_office_questions_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('guidance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=40), nullable=False),
    sa.Column('question_id', sa.String(length=40), nullable=False),
    sa.Column('question', sa.String(length=1000), nullable=False),
    sa.Column('text', sa.String(length=2000), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('carried_from_id', sa.Integer(), nullable=True),
    sa.Column('published_by', sa.BigInteger(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_guidance_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['carried_from_id'], ['guidance.id'], name=op.f('fk_guidance_carried_from_id_guidance'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source_id'], ['office_questions.id'], name=op.f('fk_guidance_source_id_office_questions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guidance')),
    sa.UniqueConstraint('campaign_id', 'carried_from_id', name=op.f('uq_guidance_campaign_id')),
    sa.UniqueConstraint('source_id', name=op.f('uq_guidance_source_id'))
    )
    with op.batch_alter_table('guidance', schema=None) as batch_op:
        batch_op.create_index('ix_guidance_question', ['campaign_id', 'level', 'question_id'], unique=False)

    with op.batch_alter_table('coordinators', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answering', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('coordinators', schema=None) as batch_op:
        batch_op.drop_column('answering')

    with op.batch_alter_table('guidance', schema=None) as batch_op:
        batch_op.drop_index('ix_guidance_question')

    op.drop_table('guidance')
    with op.batch_alter_table('office_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_office_questions_campaign_id'))
        batch_op.drop_index(batch_op.f('ix_office_questions_agency_id'))

    op.drop_table('office_questions')
