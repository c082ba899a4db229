"""page views, visit sessions, attribution, identity and invitations (issue 6)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 03:00:00
"""
import secrets

from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('visitors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_visitors_external_id'), ['external_id'])
        batch_op.create_foreign_key(batch_op.f('fk_visitors_merged_into_id_visitors'), 'visitors',
                                    ['merged_into_id'], ['id'])
    op.create_table('visit_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visitor_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source_kind', sa.String(length=16), nullable=False),
    sa.Column('referrer_domain', sa.String(length=253), nullable=True),
    sa.Column('search_engine', sa.String(length=40), nullable=True),
    sa.Column('search_terms', sa.String(length=200), nullable=True),
    sa.Column('social_network', sa.String(length=40), nullable=True),
    sa.Column('utm_source', sa.String(length=200), nullable=True),
    sa.Column('utm_medium', sa.String(length=200), nullable=True),
    sa.Column('utm_campaign', sa.String(length=200), nullable=True),
    sa.Column('utm_term', sa.String(length=200), nullable=True),
    sa.Column('utm_content', sa.String(length=200), nullable=True),
    sa.Column('landing_page', sa.String(length=2048), nullable=True),
    sa.Column('device_type', sa.String(length=16), nullable=False),
    sa.Column('browser', sa.String(length=64), nullable=True),
    sa.Column('os', sa.String(length=64), nullable=True),
    sa.Column('language', sa.String(length=35), nullable=True),
    sa.Column('ip_address', sa.String(length=45), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('page_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['visitor_id'], ['visitors.id'], name=op.f('fk_visit_sessions_visitor_id_visitors'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_sessions'))
    )
    op.create_index('ix_visit_sessions_visitor_last_seen', 'visit_sessions', ['visitor_id', 'last_seen_at'])
    op.create_index(op.f('ix_visit_sessions_last_seen_at'), 'visit_sessions', ['last_seen_at'])
    op.create_table('page_views',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('referrer', sa.String(length=2048), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seconds_on_page', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['visit_sessions.id'], name=op.f('fk_page_views_session_id_visit_sessions'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_page_views'))
    )
    op.create_index(op.f('ix_page_views_session_id'), 'page_views', ['session_id'])
    op.create_table('visitor_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identity_secret', sa.String(length=64), nullable=False),
    sa.Column('invitation_period_minutes', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visitor_settings'))
    )
    # The one settings row exists from the start (no two processes race to create it), each
    # tenant with its own secret.
    op.bulk_insert(sa.Table('visitor_settings', sa.MetaData(), sa.Column('id', sa.Integer),
                            sa.Column('identity_secret', sa.String),
                            sa.Column('invitation_period_minutes', sa.Integer)),
                   [{'id': 1, 'identity_secret': secrets.token_hex(32), 'invitation_period_minutes': 60}])
    op.create_table('invitation_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('url_pattern', sa.String(length=500), nullable=False),
    sa.Column('min_seconds_on_page', sa.Integer(), nullable=False),
    sa.Column('min_visits', sa.Integer(), nullable=False),
    sa.Column('source_kind', sa.String(length=16), nullable=True),
    sa.Column('search_engine', sa.String(length=40), nullable=True),
    sa.Column('utm_campaign', sa.String(length=200), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('is_enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation_rules'))
    )
    op.create_table('invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visitor_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status in ('pending', 'accepted', 'declined', 'ignored')", name=op.f('ck_invitations_status')),
    sa.ForeignKeyConstraint(['visitor_id'], ['visitors.id'], name=op.f('fk_invitations_visitor_id_visitors'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_invitations_agent_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['rule_id'], ['invitation_rules.id'], name=op.f('fk_invitations_rule_id_invitation_rules'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                            name=op.f('fk_invitations_conversation_id_conversations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations'))
    )
    op.create_index('ix_invitations_visitor_created', 'invitations', ['visitor_id', 'created_at'])


def downgrade():
    op.drop_index('ix_invitations_visitor_created', table_name='invitations')
    op.drop_table('invitations')
    op.drop_table('invitation_rules')
    op.drop_table('visitor_settings')
    op.drop_index(op.f('ix_page_views_session_id'), table_name='page_views')
    op.drop_table('page_views')
    op.drop_index(op.f('ix_visit_sessions_last_seen_at'), table_name='visit_sessions')
    op.drop_index('ix_visit_sessions_visitor_last_seen', table_name='visit_sessions')
    op.drop_table('visit_sessions')
    with op.batch_alter_table('visitors', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_visitors_merged_into_id_visitors'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_visitors_external_id'), type_='unique')
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('external_id')
