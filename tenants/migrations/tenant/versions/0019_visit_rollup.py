"""visit rollup: visits, page views and conversions per UTC hour and source attribute (issue 8)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 08:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('report_rollup_watermarks') as batch_op:
        batch_op.add_column(sa.Column('folded_until', sa.DateTime(timezone=True), nullable=True))
    # Nothing folded yet (folded_until empty): the first fold starts at the oldest visit.
    op.bulk_insert(sa.Table('report_rollup_watermarks', sa.MetaData(), sa.Column('fact', sa.String),
                            sa.Column('last_id', sa.BigInteger)), [{'fact': 'visits', 'last_id': 0}])
    op.create_table('report_visit_hours',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('dimension', sa.String(length=32), nullable=False),
    sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('value', sa.String(length=2048), nullable=False),
    sa.Column('visits', sa.BigInteger(), nullable=False),
    sa.Column('page_views', sa.BigInteger(), nullable=False),
    sa.Column('conversations', sa.BigInteger(), nullable=False),
    sa.Column('converted', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_visit_hours'))
    )
    op.create_index('ix_report_visit_hours_dimension_hour', 'report_visit_hours', ['dimension', 'hour'])


def downgrade():
    op.drop_index('ix_report_visit_hours_dimension_hour', table_name='report_visit_hours')
    op.drop_table('report_visit_hours')
    op.execute("DELETE FROM report_rollup_watermarks WHERE fact = 'visits'")
    with op.batch_alter_table('report_rollup_watermarks') as batch_op:
        batch_op.drop_column('folded_until')
