"""languages: agent language, per-language visitor texts (issue 12)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26 06:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
