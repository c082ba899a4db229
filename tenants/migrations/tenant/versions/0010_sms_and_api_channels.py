"""SMS and generic API channels, outbound deliveries, call events (issue 7)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 06:30:00
"""
import secrets

from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('channel_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sms_auth_token', sa.String(length=128), nullable=True),
    sa.Column('sms_number', sa.String(length=32), nullable=True),
    sa.Column('sms_outbound_url', sa.String(length=2048), nullable=True),
    sa.Column('sms_outbound_username', sa.String(length=255), nullable=True),
    sa.Column('sms_outbound_password', sa.String(length=255), nullable=True),
    sa.Column('api_webhook_url', sa.String(length=2048), nullable=True),
    sa.Column('api_signing_secret', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_settings'))
    )
    # The one settings row exists from the start, each tenant with its own signing secret.
    op.bulk_insert(sa.Table('channel_settings', sa.MetaData(), sa.Column('id', sa.Integer),
                            sa.Column('api_signing_secret', sa.String)),
                   [{'id': 1, 'api_signing_secret': secrets.token_hex(32)}])
    op.create_table('api_channel_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('hint', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_channel_tokens')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_api_channel_tokens_secret_hash'))
    )
    op.create_table('outbound_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('content_type', sa.String(length=80), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status in ('queued', 'sending', 'delivered', 'failed')",
                       name=op.f('ck_outbound_deliveries_status')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                            name=op.f('fk_outbound_deliveries_conversation_id_conversations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'],
                            name=op.f('fk_outbound_deliveries_message_id_messages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_deliveries')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbound_deliveries_idempotency_key'))
    )
    op.create_index('ix_outbound_deliveries_pending', 'outbound_deliveries', ['status', 'next_attempt_at'])
    op.create_index(op.f('ix_outbound_deliveries_message_id'), 'outbound_deliveries', ['message_id'])
    op.create_table('outbound_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['delivery_id'], ['outbound_deliveries.id'],
                            name=op.f('fk_outbound_attempts_delivery_id_outbound_deliveries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_attempts')),
    sa.UniqueConstraint('delivery_id', 'number', name='uq_outbound_attempts_delivery_number')
    )
    op.create_table('call_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visitor_id', sa.Integer(), nullable=False),
    sa.Column('call_sid', sa.String(length=64), nullable=True),
    sa.Column('direction', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.Column('recording_url', sa.String(length=2048), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('logged_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("direction in ('inbound', 'outbound')", name=op.f('ck_call_events_direction')),
    sa.ForeignKeyConstraint(['visitor_id'], ['visitors.id'], name=op.f('fk_call_events_visitor_id_visitors'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['logged_by_id'], ['users.id'], name=op.f('fk_call_events_logged_by_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_events')),
    sa.UniqueConstraint('call_sid', 'status', name='uq_call_events_call_sid_status')
    )
    op.create_index('ix_call_events_visitor_created', 'call_events', ['visitor_id', 'created_at'])


def downgrade():
    op.drop_index('ix_call_events_visitor_created', table_name='call_events')
    op.drop_table('call_events')
    op.drop_table('outbound_attempts')
    op.drop_index(op.f('ix_outbound_deliveries_message_id'), table_name='outbound_deliveries')
    op.drop_index('ix_outbound_deliveries_pending', table_name='outbound_deliveries')
    op.drop_table('outbound_deliveries')
    op.drop_table('api_channel_tokens')
    op.drop_table('channel_settings')
