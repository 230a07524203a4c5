"""Persistence: the schema, engines and migrations, and a repository of domain values.

create_engine_for(url)   an engine configured for SQLite (WAL) or PostgreSQL (psycopg)
upgrade(url)             Alembic upgrade to head; current_revision / head_revision
ensure_current(engine)   DatabaseError unless the database is at the code's revision
Repository(engine)       outcomes, states, events + outbox, claims, heartbeats
Recorded                 what recording one probe stored (Repository.record_probe;
                         the transaction itself in monitor.store.recording)
monitor.store.ports      the Repository as each consumer sees it: one protocol each
                         (Outbox, Ledger, ...), with only the methods it calls
"""

from monitor.store.engine import (
    create_engine_for,
    current_revision,
    ensure_current,
    head_revision,
    mask_database_url,
    upgrade,
)
from monitor.store.outbox import ChannelsFor, PendingDelivery
from monitor.store.recording import Recorded
from monitor.store.repository import Repository

__all__ = [
    "ChannelsFor",
    "PendingDelivery",
    "Recorded",
    "Repository",
    "create_engine_for",
    "current_revision",
    "ensure_current",
    "head_revision",
    "mask_database_url",
    "upgrade",
]
