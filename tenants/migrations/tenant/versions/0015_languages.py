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
    # NULL: the agent follows the workspace's language, then the browser; the viewer's browser zone.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=True))
    # The language the widget last spoke to the visitor: bot and automatic replies use it.
    with op.batch_alter_table('visitors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
    op.create_table('language_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_language_settings'))
    )
    # The one settings row exists from the start: the widget follows the browser.
    op.bulk_insert(sa.Table('language_settings', sa.MetaData(), sa.Column('id', sa.Integer),
                            sa.Column('language', sa.String)),
                   [{'id': 1, 'language': None}])
    op.create_table('translated_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text_key', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_translated_texts')),
    sa.UniqueConstraint('text_key', 'language', name='uq_translated_texts_key_language')
    )


def downgrade():
    op.drop_table('translated_texts')
    op.drop_table('language_settings')
    with op.batch_alter_table('visitors', schema=None) as batch_op:
        batch_op.drop_column('language')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
        batch_op.drop_column('language')
