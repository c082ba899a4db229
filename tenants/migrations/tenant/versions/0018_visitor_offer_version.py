"""visitor offer version: the per-process copy of what a connecting visitor is offered (issue 9)

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-26 11:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

SETTINGS_VERSIONS = sa.Table('settings_versions', sa.MetaData(), sa.Column('name', sa.String),
                             sa.Column('version', sa.Integer))


def upgrade():
    op.bulk_insert(SETTINGS_VERSIONS, [{'name': 'visitor_offer', 'version': 0}])


def downgrade():
    op.execute(SETTINGS_VERSIONS.delete().where(SETTINGS_VERSIONS.c.name == 'visitor_offer'))
