"""automatic replies, business hours and persisted timers (issue 5)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 03:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('auto_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('is_enabled', sa.Boolean(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('seconds', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind in ('welcome', 'no_agent', 'outside_hours', 'queue_notice', 'agent_silent', "
                       "'visitor_idle', 'visitor_idle_close')", name=op.f('ck_auto_replies_kind')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_auto_replies_department_id_departments'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auto_replies'))
    )
    op.create_index('uq_auto_replies_scope_kind', 'auto_replies',
                    [sa.text('coalesce(department_id, 0)'), 'kind'], unique=True)
    op.create_table('business_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('is_enabled', sa.Boolean(), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('schedule', sa.JSON(), nullable=False),
    sa.Column('holidays', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'],
                            name=op.f('fk_business_hours_department_id_departments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_business_hours'))
    )
    op.create_index('uq_business_hours_scope', 'business_hours', [sa.text('coalesce(department_id, 0)')], unique=True)
    op.create_table('conversation_timers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                            name=op.f('fk_conversation_timers_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_timers'))
    )
    op.create_index('ix_conversation_timers_pending', 'conversation_timers', ['fired_at', 'cancelled_at', 'due_at'])
    op.create_index(op.f('ix_conversation_timers_conversation_id'), 'conversation_timers', ['conversation_id'])


def downgrade():
    op.drop_index(op.f('ix_conversation_timers_conversation_id'), table_name='conversation_timers')
    op.drop_index('ix_conversation_timers_pending', table_name='conversation_timers')
    op.drop_table('conversation_timers')
    op.drop_index('uq_business_hours_scope', table_name='business_hours')
    op.drop_table('business_hours')
    op.drop_index('uq_auto_replies_scope_kind', table_name='auto_replies')
    op.drop_table('auto_replies')
