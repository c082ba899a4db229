"""settings versions: per-process caches of hot-path settings stay honest (issue 9)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26 10:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('settings_versions',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_settings_versions'))
    )
    # Every versioned setting has its row from the start: readers never meet a missing one.
    op.bulk_insert(sa.Table('settings_versions', sa.MetaData(), sa.Column('name', sa.String),
                            sa.Column('version', sa.Integer)),
                   [{'name': 'auto_replies', 'version': 0}])


def downgrade():
    op.drop_table('settings_versions')
