"""saved reports, exports and report rollups (issue 8)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 06:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('saved_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_saved_reports_created_by_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_reports'))
    )
    op.create_table('report_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('file_format', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('rows_written', sa.Integer(), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status in ('queued', 'running', 'done', 'failed')", name=op.f('ck_report_exports_status')),
    sa.CheckConstraint("file_format in ('csv', 'xlsx')", name=op.f('ck_report_exports_file_format')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_report_exports_created_by_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_exports')),
    sa.UniqueConstraint('public_id', name=op.f('uq_report_exports_public_id'))
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visit_session_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_conversations_visit_session_id_visit_sessions'), 'visit_sessions',
                                    ['visit_session_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index('ix_reports_conversations_created', ['created_at'], unique=False)
        batch_op.create_index('ix_reports_conversations_visit', ['visit_session_id'], unique=False)
    op.create_index('ix_reports_visit_sessions_started', 'visit_sessions', ['started_at'])
    op.create_index('ix_reports_page_views_started', 'page_views', ['started_at'])
    op.create_index('ix_reports_messages_created', 'messages', ['created_at'])
    # Conversations from before: the visitor's latest visit that had started when the conversation did.
    # (sa.Table, not sa.table: only real Table objects get the tenant's schema translated.)
    metadata = sa.MetaData()
    conversations = sa.Table('conversations', metadata, sa.Column('id', sa.Integer), sa.Column('visitor_id', sa.Integer),
                             sa.Column('visit_session_id', sa.Integer),
                             sa.Column('created_at', sa.DateTime(timezone=True)))
    visits = sa.Table('visit_sessions', metadata, sa.Column('id', sa.Integer), sa.Column('visitor_id', sa.Integer),
                      sa.Column('started_at', sa.DateTime(timezone=True)))
    op.execute(conversations.update().values(visit_session_id=(
        sa.select(sa.func.max(visits.c.id))
        .where(visits.c.visitor_id == conversations.c.visitor_id, visits.c.started_at <= conversations.c.created_at)
        .scalar_subquery())))


def downgrade():
    op.drop_index('ix_reports_messages_created', table_name='messages')
    op.drop_index('ix_reports_page_views_started', table_name='page_views')
    op.drop_index('ix_reports_visit_sessions_started', table_name='visit_sessions')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_conversations_visit')
        batch_op.drop_index('ix_reports_conversations_created')
        batch_op.drop_constraint(batch_op.f('fk_conversations_visit_session_id_visit_sessions'), type_='foreignkey')
        batch_op.drop_column('visit_session_id')
    op.drop_table('report_exports')
    op.drop_table('saved_reports')
