"""bot greeting, fallback and hand-off keywords per tenant

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 02:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

GREETING = "Hi! I'm the virtual assistant. Ask me anything, or type \"human\" to talk to a person."
FALLBACK = "Sorry, I don't have an answer to that yet."
KEYWORDS = "human, person, agent, operator, real person"


def upgrade():
    with op.batch_alter_table('reception_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bot_greeting', sa.Text(), nullable=False, server_default=GREETING))
        batch_op.add_column(sa.Column('bot_fallback', sa.Text(), nullable=False, server_default=FALLBACK))
        batch_op.add_column(sa.Column('bot_handoff_keywords', sa.String(length=500), nullable=False,
                                      server_default=KEYWORDS))


def downgrade():
    with op.batch_alter_table('reception_settings', schema=None) as batch_op:
        batch_op.drop_column('bot_handoff_keywords')
        batch_op.drop_column('bot_fallback')
        batch_op.drop_column('bot_greeting')
