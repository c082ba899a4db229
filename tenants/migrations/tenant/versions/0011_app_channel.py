"""app keys and push webhooks for the app channel (issue 7)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 06:30:00
"""
import secrets

from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('app_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('hint', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_keys')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_app_keys_secret_hash'))
    )
    op.create_table('app_channel_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('push_url', sa.String(length=2048), nullable=True),
    sa.Column('push_secret', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_channel_settings'))
    )
    # The one settings row exists from the start (no two processes race to create it), each
    # tenant with its own signing secret.
    op.bulk_insert(sa.Table('app_channel_settings', sa.MetaData(), sa.Column('id', sa.Integer),
                            sa.Column('push_secret', sa.String)),
                   [{'id': 1, 'push_secret': secrets.token_hex(32)}])
    op.create_table('app_connections',
    sa.Column('sid', sa.String(length=64), nullable=False),
    sa.Column('visitor_id', sa.Integer(), nullable=False),
    sa.Column('connected_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['visitor_id'], ['visitors.id'], name=op.f('fk_app_connections_visitor_id_visitors'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sid', name=op.f('pk_app_connections'))
    )
    op.create_index(op.f('ix_app_connections_visitor_id'), 'app_connections', ['visitor_id'])


def downgrade():
    op.drop_index(op.f('ix_app_connections_visitor_id'), table_name='app_connections')
    op.drop_table('app_connections')
    op.drop_table('app_channel_settings')
    op.drop_table('app_keys')
