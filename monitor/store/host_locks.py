"""Per-host politeness held for the whole fleet: PostgreSQL advisory locks (cluster mode).

A host's ``per_host_concurrency`` is N advisory locks ``(host key, 0..N-1)``: a probe holds
one of them, on a connection of its own, for its whole duration. Its ``per_host_min_gap`` is
one more lock ``(host key, -1)``: a request starts once it holds it, and gives it back
``gap`` seconds after its start, so two request starts on the host, from any node, are at
least ``gap`` apart. Session locks die with their connection: a node killed mid-probe frees
its hosts at once, without any clean-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from dataclasses import dataclass

import psycopg
from psycopg.conninfo import make_conninfo

__all__ = ["HostLocks", "SlotLease", "host_key"]

log = logging.getLogger(__name__)

#: How often a probe waiting for a fleet slot of its host tries again.
RETRY_EVERY = 0.1
_GAP_LOCK = -1


def host_key(host: str) -> int:
    """A stable signed 32-bit key for a host (the first half of its advisory locks)."""
    digest = hashlib.sha256(f"prefecture-monitor host {host}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


@dataclass
class SlotLease:
    """A held fleet slot of a host: give it back with :meth:`HostLocks.release`."""

    connection: psycopg.AsyncConnection[tuple[object, ...]]
    key: int
    index: int


class HostLocks:
    """Advisory locks on the fleet's database, on a few reused connections."""

    def __init__(self, conninfo: str, *, application_name: str | None = None) -> None:
        """``application_name``: what the connections say in ``pg_stat_activity``."""
        self._conninfo = (
            conninfo
            if application_name is None
            else make_conninfo(conninfo, application_name=application_name)
        )
        self._idle: list[psycopg.AsyncConnection[tuple[object, ...]]] = []
        self._pending: set[asyncio.Task[None]] = set()

    async def _connection(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed:
                return connection
        return await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)

    async def _give_back(
        self, connection: psycopg.AsyncConnection[tuple[object, ...]], key: int, index: int
    ) -> None:
        try:
            await connection.execute("SELECT pg_advisory_unlock(%s, %s)", (key, index))
        except Exception as error:  # closing the connection frees its locks as well
            log.debug("advisory unlock failed, closing its connection: %s", error)
            await connection.close()
        else:
            self._idle.append(connection)

    async def hold_slot(self, host: str, limit: int) -> SlotLease:
        """Wait until fewer than ``limit`` probes of the fleet hold ``host``; hold a slot."""
        key = host_key(host)
        connection = await self._connection()
        try:
            while True:
                for index in range(limit):
                    cursor = await connection.execute(
                        "SELECT pg_try_advisory_lock(%s, %s)", (key, index)
                    )
                    row = await cursor.fetchone()
                    if row is not None and row[0]:
                        return SlotLease(connection, key, index)
                await asyncio.sleep(RETRY_EVERY)
        except BaseException:
            await connection.close()  # frees anything it may hold
            raise

    async def release(self, lease: SlotLease) -> None:
        """Give a slot back (its connection goes back to the idle ones); shielded, so that
        a probe cancelled again while leaving cannot leave the lock held."""
        await asyncio.shield(self._give_back(lease.connection, lease.key, lease.index))

    async def take_turn(self, host: str, gap: float) -> None:
        """Wait until a request to ``host`` may start fleet-wide; the turn is handed on
        ``gap`` seconds from now."""
        key = host_key(host)
        connection = await self._connection()
        try:
            await connection.execute("SELECT pg_advisory_lock(%s, %s)", (key, _GAP_LOCK))
        except BaseException:
            await connection.close()
            raise
        task = asyncio.create_task(self._hand_on(connection, key, gap))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _hand_on(
        self, connection: psycopg.AsyncConnection[tuple[object, ...]], key: int, gap: float
    ) -> None:
        try:
            await asyncio.sleep(gap)
        finally:
            await self._give_back(connection, key, _GAP_LOCK)

    async def aclose(self) -> None:
        """Hand on the turns still held, close every connection."""
        for task in list(self._pending):
            task.cancel()
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=2)
        for connection in self._idle:
            with contextlib.suppress(Exception):
                await connection.close()
        self._idle.clear()
