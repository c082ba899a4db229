"""first touches per UTC day and each visitor's day: the visitor-unit source reports from the rollup (issue 8)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 00:10:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('report_visit_days') as batch:
        batch.add_column(sa.Column('first_visitors', sa.LargeBinary(), nullable=True))
    op.create_table('report_visitor_days',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.DateTime(timezone=True), nullable=False),
    sa.Column('visitors', sa.LargeBinary(), nullable=False),
    sa.Column('counts', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_visitor_days')),
    sa.UniqueConstraint('day', name=op.f('uq_report_visitor_days_day'))
    )
    # The visits folded so far have neither: fold them all again (the next fold does).
    op.execute("DELETE FROM report_visit_hours")
    op.execute("DELETE FROM report_visit_days")
    op.execute("UPDATE report_rollup_watermarks SET folded_until = NULL, last_id = 0 WHERE fact = 'visits'")


def downgrade():
    op.drop_table('report_visitor_days')
    with op.batch_alter_table('report_visit_days') as batch:
        batch.drop_column('first_visitors')
