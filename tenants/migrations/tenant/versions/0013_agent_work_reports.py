"""agent presence history and agent work facts (issue 8)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26 06:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agent_presence_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state in ('online', 'away', 'offline')", name=op.f('ck_agent_presence_log_state')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_agent_presence_log_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_presence_log'))
    )
    op.create_index('ix_agent_presence_log_user_started', 'agent_presence_log', ['user_id', 'started_at'])
    # Each existing agent's current state is the first interval of their history, from when it began.
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('presence', sa.String),
                     sa.column('presence_changed_at', sa.DateTime(timezone=True)))
    log = sa.table('agent_presence_log', sa.column('user_id', sa.Integer), sa.column('state', sa.String),
                   sa.column('started_at', sa.DateTime(timezone=True)))
    op.execute(log.insert().from_select(['user_id', 'state', 'started_at'],
                                        sa.select(users.c.id, users.c.presence, users.c.presence_changed_at)))


def downgrade():
    op.drop_index('ix_agent_presence_log_user_started', table_name='agent_presence_log')
    op.drop_table('agent_presence_log')
