"""per-tenant widget look (issue 12)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26 06:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('widget_look',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('color', sa.String(length=7), nullable=False),
    sa.Column('position', sa.String(length=5), nullable=False),
    sa.Column('launcher_text', sa.String(length=24), nullable=False),
    sa.Column('greeting', sa.String(length=200), nullable=False),
    sa.Column('hide_outside_hours', sa.Boolean(), nullable=False),
    sa.Column('logo', sa.LargeBinary(), nullable=True),
    sa.Column('logo_type', sa.String(length=16), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("position in ('right', 'left')", name=op.f('ck_widget_look_position')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_widget_look'))
    )


def downgrade():
    op.drop_table('widget_look')
