"""reception and routing

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 00:59:39.430172
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('channel_modes',
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('reception_mode', sa.String(length=16), nullable=False),
    sa.CheckConstraint("reception_mode in ('human_only', 'bot_only', 'bot_first', 'human_first')", name=op.f('ck_channel_modes_mode')),
    sa.PrimaryKeyConstraint('channel', name=op.f('pk_channel_modes'))
    )
    op.create_table('departments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('public_name', sa.String(length=80), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('is_hidden', sa.Boolean(), nullable=False),
    sa.Column('assignment', sa.String(length=8), nullable=False),
    sa.Column('reception_mode', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("assignment in ('auto', 'manual')", name=op.f('ck_departments_assignment')),
    sa.CheckConstraint("reception_mode is null or reception_mode in ('human_only', 'bot_only', 'bot_first', 'human_first')", name=op.f('ck_departments_mode')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_departments')),
    sa.UniqueConstraint('name', name=op.f('uq_departments_name'))
    )
    op.create_table('reception_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reception_mode', sa.String(length=16), nullable=False),
    sa.Column('department_picker', sa.Boolean(), nullable=False),
    sa.Column('prechat_fields', sa.JSON(), nullable=False),
    sa.Column('default_max_concurrent', sa.Integer(), nullable=False),
    sa.Column('reopen_window_minutes', sa.Integer(), nullable=False),
    sa.Column('bot_handoff_after', sa.Integer(), nullable=False),
    sa.CheckConstraint("reception_mode in ('human_only', 'bot_only', 'bot_first', 'human_first')", name=op.f('ck_reception_settings_mode')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reception_settings'))
    )
    # The one settings row exists from the start, so no two processes ever race to create it.
    # (sa.Table, not sa.table: only real Table objects get the tenant's schema translated.)
    op.bulk_insert(sa.Table('reception_settings', sa.MetaData(), sa.Column('id', sa.Integer),
                            sa.Column('reception_mode', sa.String), sa.Column('department_picker', sa.Boolean),
                            sa.Column('prechat_fields', sa.JSON), sa.Column('default_max_concurrent', sa.Integer),
                            sa.Column('reopen_window_minutes', sa.Integer), sa.Column('bot_handoff_after', sa.Integer)),
                   [{'id': 1, 'reception_mode': 'human_only', 'department_picker': False, 'prechat_fields': [],
                     'default_max_concurrent': 5, 'reopen_window_minutes': 30, 'bot_handoff_after': 3}])
    op.create_table('agent_connections',
    sa.Column('sid', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('connected_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_agent_connections_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sid', name=op.f('pk_agent_connections'))
    )
    with op.batch_alter_table('agent_connections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_connections_user_id'), ['user_id'], unique=False)

    op.create_table('department_members',
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_department_members_department_id_departments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_department_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('department_id', 'user_id', name=op.f('pk_department_members'))
    )
    op.create_table('conversation_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_conversation_events_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_events'))
    )
    with op.batch_alter_table('conversation_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_events_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversation_events_created_at'), ['created_at'], unique=False)

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('department_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('handler', sa.String(length=8), nullable=False, server_default='queue'))
        batch_op.add_column(sa.Column('waiting_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('bot_unanswered', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index('ix_conversations_waiting', ['status', 'department_id', 'waiting_since'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_conversations_department_id_departments'), 'departments', ['department_id'], ['id'], ondelete='SET NULL')
        batch_op.create_check_constraint(op.f('ck_conversations_handler'), "handler in ('bot', 'queue', 'agent')")
    # Conversations from before routing: an assigned one is with its agent, the rest wait in the queue.
    conversations = sa.Table('conversations', sa.MetaData(), sa.Column('handler', sa.String),
                             sa.Column('assigned_agent_id', sa.Integer), sa.Column('status', sa.String),
                             sa.Column('waiting_since', sa.DateTime(timezone=True)),
                             sa.Column('created_at', sa.DateTime(timezone=True)))
    op.execute(conversations.update().where(conversations.c.assigned_agent_id.isnot(None)).values(handler='agent'))
    op.execute(conversations.update()
               .where(conversations.c.assigned_agent_id.is_(None), conversations.c.status == 'open')
               .values(waiting_since=conversations.c.created_at))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('presence', sa.String(length=8), nullable=False, server_default='offline'))
        batch_op.add_column(sa.Column('presence_changed_at', sa.DateTime(timezone=True), nullable=False,
                                      server_default=sa.func.current_timestamp()))
        batch_op.add_column(sa.Column('presence_is_automatic', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('max_concurrent', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('last_assigned_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(op.f('ck_users_presence'), "presence in ('online', 'away', 'offline')")

    with op.batch_alter_table('visitors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=32), nullable=True))



def downgrade():
    with op.batch_alter_table('visitors', schema=None) as batch_op:
        batch_op.drop_column('phone')
        batch_op.drop_column('email')
        batch_op.drop_column('name')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_presence'), type_='check')
        batch_op.drop_column('last_assigned_at')
        batch_op.drop_column('max_concurrent')
        batch_op.drop_column('presence_is_automatic')
        batch_op.drop_column('presence_changed_at')
        batch_op.drop_column('presence')

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_conversations_handler'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_conversations_department_id_departments'), type_='foreignkey')
        batch_op.drop_index('ix_conversations_waiting')
        batch_op.drop_column('bot_unanswered')
        batch_op.drop_column('waiting_since')
        batch_op.drop_column('handler')
        batch_op.drop_column('department_id')

    with op.batch_alter_table('conversation_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_events_created_at'))
        batch_op.drop_index(batch_op.f('ix_conversation_events_conversation_id'))

    op.drop_table('conversation_events')
    op.drop_table('department_members')
    with op.batch_alter_table('agent_connections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_connections_user_id'))

    op.drop_table('agent_connections')
    op.drop_table('reception_settings')
    op.drop_table('departments')
    op.drop_table('channel_modes')
