"""Shared Alembic environment: the caller hands over the connection (already routed to the
tenant's schema or file) and where the version table lives."""
from alembic import context


def run(target_metadata) -> None:
    attributes = context.config.attributes
    context.configure(
        connection=attributes["connection"],
        target_metadata=target_metadata,
        version_table_schema=attributes.get("version_table_schema"),
        render_as_batch=True,  # SQLite can only ALTER through table copies
    )
    with context.begin_transaction():
        context.run_migrations()
