"""report rollups: pre-aggregated facts for the standard reports (issue 8)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26 10:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


ROLLED_UP_FACTS = ('conversations', 'messages')


def upgrade():
    op.create_table('report_rollup_watermarks',
    sa.Column('fact', sa.String(length=32), nullable=False),
    sa.Column('last_id', sa.BigInteger(), nullable=False),
    sa.Column('folded_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('fact', name=op.f('pk_report_rollup_watermarks'))
    )
    # Nothing folded yet: the first fold (the background job) takes every fact there is.
    op.bulk_insert(sa.Table('report_rollup_watermarks', sa.MetaData(), sa.Column('fact', sa.String),
                            sa.Column('last_id', sa.BigInteger)),
                   [{'fact': fact, 'last_id': 0} for fact in ROLLED_UP_FACTS])
    op.create_table('report_conversation_hours',
    sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('hour', 'channel', name=op.f('pk_report_conversation_hours'))
    )
    op.create_table('report_message_hours',
    sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('sender_type', sa.String(length=16), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('hour', 'channel', 'sender_type', name=op.f('pk_report_message_hours'))
    )


def downgrade():
    op.drop_table('report_message_hours')
    op.drop_table('report_conversation_hours')
    op.drop_table('report_rollup_watermarks')
