"""visit rollup per UTC day, with the visitors of each day as a set: long ranges and distinct visitors (issue 8)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 18:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_visit_days',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('dimension', sa.String(length=32), nullable=False),
    sa.Column('day', sa.DateTime(timezone=True), nullable=False),
    sa.Column('value', sa.String(length=2048), nullable=False),
    sa.Column('visits', sa.BigInteger(), nullable=False),
    sa.Column('page_views', sa.BigInteger(), nullable=False),
    sa.Column('conversations', sa.BigInteger(), nullable=False),
    sa.Column('converted', sa.BigInteger(), nullable=False),
    sa.Column('visitors', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_visit_days'))
    )
    op.create_index('ix_report_visit_days_dimension_day', 'report_visit_days', ['dimension', 'day'])
    # The visits folded so far have no days: fold them all again (the next fold does).
    op.execute("DELETE FROM report_visit_hours")
    op.execute("UPDATE report_rollup_watermarks SET folded_until = NULL, last_id = 0 WHERE fact = 'visits'")


def downgrade():
    op.drop_index('ix_report_visit_days_dimension_day', table_name='report_visit_days')
    op.drop_table('report_visit_days')
