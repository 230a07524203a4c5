"""How daemons coordinate through the database: probe claims and heartbeats.

A claim row ``(target, slot)`` is written before each probe, so that however many daemons
share the database, one slot of one target is probed once. Each daemon's heartbeat row says
it is alive (``monitor status --heartbeat``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from sqlalchemy import delete, func, select
from sqlalchemy.sql.expression import Executable

from monitor.store.rows import heartbeats, probe_claims
from monitor.store.transactions import TransactionalStore, dialect_insert, insert_for


@dataclass(frozen=True)
class NodeBeat:
    """One daemon node's heartbeat row."""

    node: str
    beat_at: datetime
    pid: int
    version: str
    started_at: datetime


@cache
def _claim_statement(dialect: str) -> Executable:
    """claim_probe's INSERT, built once per database (every probe runs it)."""
    return (
        insert_for(dialect, probe_claims)
        .on_conflict_do_nothing(index_elements=[probe_claims.c.target, probe_claims.c.slot])
        # RETURNING, not rowcount: drivers do not all report rowcount for an INSERT.
        .returning(probe_claims.c.node)
    )


class CoordinationStore(TransactionalStore):
    """Probe claims and heartbeats; every public method is one transaction."""

    def claim_probe(self, target: str, slot: datetime, node: str) -> bool:
        """Claim the probe of ``target`` for its scheduled ``slot``; False if already taken."""
        claim = {"target": target, "slot": slot, "node": node, "claimed_at": datetime.now(UTC)}
        with self._write() as connection:
            inserted = connection.execute(_claim_statement(connection.dialect.name), claim).first()
        return inserted is not None

    def claimed_since(self, since: datetime) -> set[tuple[str, datetime]]:
        """The ``(target, slot)`` pairs claimed for slots at or after ``since``."""
        query = select(probe_claims.c.target, probe_claims.c.slot).where(
            probe_claims.c.slot >= since
        )
        with self._read() as connection:
            return {(row.target, row.slot) for row in connection.execute(query)}

    def prune_claims(self, before: datetime) -> int:
        """Forget probe claims for slots before ``before``; returns how many."""
        with self._write() as connection:
            return connection.execute(
                delete(probe_claims).where(probe_claims.c.slot < before)
            ).rowcount

    def beat(
        self,
        node: str,
        pid: int,
        version: str,
        started_at: datetime,
        *,
        now: datetime | None = None,
    ) -> None:
        """Record that ``node`` is alive (at ``now``, default the current time)."""
        values = {
            "beat_at": now or datetime.now(UTC),
            "pid": pid,
            "version": version,
            "started_at": started_at,
        }
        with self._write() as connection:
            connection.execute(
                dialect_insert(connection, heartbeats)
                .values(node=node, **values)
                .on_conflict_do_update(index_elements=[heartbeats.c.node], set_=values)
            )

    def last_beat(self, node: str | None = None) -> datetime | None:
        """The latest heartbeat of ``node``, or of any node; None if none ever beat."""
        query = select(func.max(heartbeats.c.beat_at))
        if node is not None:
            query = query.where(heartbeats.c.node == node)
        with self._read() as connection:
            # max() keeps the column's type, so the value comes back aware UTC.
            latest: datetime | None = connection.execute(query).scalar_one_or_none()
        return latest

    def nodes(self) -> list[NodeBeat]:
        """Every node's heartbeat row, most recent beat first."""
        query = select(heartbeats).order_by(heartbeats.c.beat_at.desc(), heartbeats.c.node)
        with self._read() as connection:
            return [
                NodeBeat(row.node, row.beat_at, row.pid, row.version, row.started_at)
                for row in connection.execute(query)
            ]

    def forget_node(self, node: str) -> None:
        """Delete ``node``'s heartbeat row (a cluster node stopping cleanly)."""
        with self._write() as connection:
            connection.execute(delete(heartbeats).where(heartbeats.c.node == node))

    def forget_silent_nodes(self, before: datetime) -> list[NodeBeat]:
        """Delete the heartbeat rows of nodes whose last beat is before ``before``; returns
        them. One statement: of several nodes forgetting at once, each row goes to one."""
        statement = delete(heartbeats).where(heartbeats.c.beat_at < before).returning(*heartbeats.c)
        with self._write() as connection:
            rows = connection.execute(statement).all()
        return sorted(
            (NodeBeat(row.node, row.beat_at, row.pid, row.version, row.started_at) for row in rows),
            key=lambda beat: beat.node,
        )
