"""attachments and message formats (issue 5)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 03:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024
DEFAULT_ALLOWED_TYPES = ["png", "jpeg", "gif", "webp", "pdf", "txt"]


def upgrade():
    upload_settings = op.create_table(
        'upload_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('max_file_bytes', sa.Integer(), nullable=False),
        sa.Column('allowed_types', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_upload_settings')),
    )
    op.bulk_insert(upload_settings, [
        {'id': 1, 'max_file_bytes': DEFAULT_MAX_FILE_BYTES, 'allowed_types': DEFAULT_ALLOWED_TYPES},
    ])
    op.create_table(
        'attachments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=32), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('file_type', sa.String(length=16), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=True),
        sa.Column('height', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'],
                                name=op.f('fk_attachments_conversation_id_conversations')),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_attachments_message_id_messages')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
        sa.UniqueConstraint('public_id', name=op.f('uq_attachments_public_id')),
    )
    op.create_index(op.f('ix_attachments_conversation_id'), 'attachments', ['conversation_id'])


def downgrade():
    op.drop_index(op.f('ix_attachments_conversation_id'), table_name='attachments')
    op.drop_table('attachments')
    op.drop_table('upload_settings')
