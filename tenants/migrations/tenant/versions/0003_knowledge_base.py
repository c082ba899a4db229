"""knowledge base

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 01:26:12.689445
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('kb_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_version'))
    )
    op.bulk_insert(sa.Table('kb_version', sa.MetaData(), sa.Column('id', sa.Integer), sa.Column('version', sa.Integer)),
                   [{'id': 1, 'version': 0}])
    op.create_table('kb_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question', sa.String(length=500), nullable=False),
    sa.Column('phrasings', sa.JSON(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=80), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_kb_entries_department_id_departments'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_entries'))
    )
    op.create_table('bot_turns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('suggested_ids', sa.JSON(), nullable=False),
    sa.Column('score', sa.Double(), nullable=True),
    sa.Column('rating', sa.String(length=16), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("outcome in ('answered', 'suggested', 'fallback', 'handed_over')", name=op.f('ck_bot_turns_outcome')),
    sa.CheckConstraint("rating is null or rating in ('helpful', 'not_helpful')", name=op.f('ck_bot_turns_rating')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_bot_turns_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['kb_entries.id'], name=op.f('fk_bot_turns_entry_id_kb_entries'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_bot_turns_message_id_messages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bot_turns'))
    )
    with op.batch_alter_table('bot_turns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bot_turns_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bot_turns_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_bot_turns_learning', ['outcome', 'reviewed_at'], unique=False)

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('extras', sa.JSON(), nullable=True))



def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('extras')

    with op.batch_alter_table('bot_turns', schema=None) as batch_op:
        batch_op.drop_index('ix_bot_turns_learning')
        batch_op.drop_index(batch_op.f('ix_bot_turns_created_at'))
        batch_op.drop_index(batch_op.f('ix_bot_turns_conversation_id'))

    op.drop_table('bot_turns')
    op.drop_table('kb_entries')
    op.drop_table('kb_version')
