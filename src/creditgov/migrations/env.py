"""Alembic environment: one schema for SQLite and PostgreSQL (batch mode for SQLite)."""

from alembic import context

from creditgov.bootstrap import metadata as schema_metadata
from creditgov.core.db import engine_for

config = context.config
metadata = schema_metadata()


def run() -> None:
    url = config.get_main_option("sqlalchemy.url")
    connectable = config.attributes.get("connection")
    if connectable is None:
        with engine_for(url).connect() as conn:
            _migrate(conn)
    else:
        _migrate(connectable)


def _migrate(conn) -> None:
    context.configure(connection=conn, target_metadata=metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run()
