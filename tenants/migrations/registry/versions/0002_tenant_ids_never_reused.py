"""tenant ids are never reused

Socket.IO rooms, scheduled jobs and caches name a tenant by its id. SQLite hands a deleted
row's id to the next insert unless the table is AUTOINCREMENT, so a deleted tenant's pending
board refresh or timer could reach the next tenant created. PostgreSQL sequences never reuse.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05 18:20:00
"""
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("tenants", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
        pass


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("tenants", recreate="always", table_kwargs={"sqlite_autoincrement": False}):
        pass
