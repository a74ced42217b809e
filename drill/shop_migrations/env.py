"""Alembic environment of the drill's shop database.

Online: the connection handed in by the drill (``config.attributes["connection"]``), else a
psycopg connection to ``WARROOM_DATABASE_DSN`` (libpq takes the password from PGPASSWORD or
PGPASSFILE). Offline (``--sql``): PostgreSQL SQL is printed, nothing connects.
"""

from __future__ import annotations

import os

import psycopg
from alembic import context
from sqlalchemy import create_engine

config = context.config


def run_offline() -> None:
    context.configure(url="postgresql+psycopg://", literal_binds=True,
                      dialect_opts={"paramstyle": "named"}, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, transactional_ddl=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    dsn = os.environ.get("WARROOM_DATABASE_DSN", "")
    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(dsn))
    with engine.connect() as conn:
        context.configure(connection=conn, transactional_ddl=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
