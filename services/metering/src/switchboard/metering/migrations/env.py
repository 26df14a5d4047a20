"""Alembic environment of the usage ledger: runs on the connection handed over by ``database.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from switchboard.metering.ledger_tables import Base

connection: Connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, version_table="metering_alembic_version")
with context.begin_transaction():
    context.run_migrations()
