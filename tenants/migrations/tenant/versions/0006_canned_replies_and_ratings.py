"""canned replies and satisfaction ratings with tags (issue 5)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 03:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# Tags offered per level until an admin changes them: {scale: {score: [tag, …]}}.
DEFAULT_TAGS = {
    'stars5': {
        '1': ['Slow response', 'Problem not solved', 'Unfriendly'],
        '2': ['Slow response', 'Problem not solved'],
        '3': ['Took a while', 'Partly solved'],
        '4': ['Quick response', 'Helpful'],
        '5': ['Quick response', 'Problem solved', 'Friendly'],
    },
    'levels3': {
        '1': ['Slow response', 'Problem not solved', 'Unfriendly'],
        '2': ['Took a while', 'Partly solved'],
        '3': ['Quick response', 'Problem solved', 'Friendly'],
    },
}


def upgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visitor_read_seq', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('rating_invited_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('canned_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('shortcut', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=80), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_canned_replies_owner_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_canned_replies')),
    sa.UniqueConstraint('owner_id', 'shortcut', name='uq_canned_replies_owner_shortcut'),
    )
    op.create_index(op.f('ix_canned_replies_owner_id'), 'canned_replies', ['owner_id'], unique=False)
    op.create_index('uq_canned_replies_tenant_shortcut', 'canned_replies', ['shortcut'], unique=True,
                    sqlite_where=sa.text('owner_id IS NULL'), postgresql_where=sa.text('owner_id IS NULL'))

    op.create_table('rating_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('scale', sa.String(length=8), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.CheckConstraint("scale in ('stars5', 'levels3')", name=op.f('ck_rating_settings_scale')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rating_settings')),
    )
    settings = sa.Table('rating_settings', sa.MetaData(), sa.Column('id', sa.Integer),
                        sa.Column('enabled', sa.Boolean), sa.Column('scale', sa.String), sa.Column('tags', sa.JSON))
    op.bulk_insert(settings, [{'id': 1, 'enabled': True, 'scale': 'stars5', 'tags': DEFAULT_TAGS}])

    op.create_table('conversation_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('scale', sa.String(length=8), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("scale in ('stars5', 'levels3')", name=op.f('ck_conversation_ratings_scale')),
    sa.CheckConstraint('score between 1 and 5', name=op.f('ck_conversation_ratings_score')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_conversation_ratings_agent_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                            name=op.f('fk_conversation_ratings_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'],
                            name=op.f('fk_conversation_ratings_department_id_departments'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_ratings')),
    sa.UniqueConstraint('conversation_id', name=op.f('uq_conversation_ratings_conversation_id')),
    )
    op.create_index(op.f('ix_conversation_ratings_agent_id'), 'conversation_ratings', ['agent_id'], unique=False)
    op.create_index(op.f('ix_conversation_ratings_created_at'), 'conversation_ratings', ['created_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_conversation_ratings_created_at'), table_name='conversation_ratings')
    op.drop_index(op.f('ix_conversation_ratings_agent_id'), table_name='conversation_ratings')
    op.drop_table('conversation_ratings')
    op.drop_table('rating_settings')
    op.drop_index('uq_canned_replies_tenant_shortcut', table_name='canned_replies')
    op.drop_index(op.f('ix_canned_replies_owner_id'), table_name='canned_replies')
    op.drop_table('canned_replies')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('rating_invited_at')
        batch_op.drop_column('visitor_read_seq')
