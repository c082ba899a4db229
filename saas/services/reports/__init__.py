"""Reports: SQL aggregates over a tenant's facts, the same on PostgreSQL and SQLite."""
