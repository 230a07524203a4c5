"""The daemon's own upkeep between probes: the heartbeat, departed nodes, old claims, the
outbox gauge, anchors.

Each step logs its failure and returns: the database or the disk may come back, and the
daemon must go on probing meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor import __version__
from monitor.config.durations import format_duration
from monitor.daemon import metrics
from monitor.daemon.nodes import on_host, process_exists
from monitor.evidence.anchors import HEADS_FILE, write_anchors
from monitor.store.coordination import NodeBeat
from monitor.store.ports import NodeUpkeep

log = logging.getLogger(__name__)

CLAIM_RETENTION = timedelta(days=2)  #: probe claims older than this are deleted
PRUNE_EVERY = timedelta(hours=1)
ANCHOR_EVERY = timedelta(days=1)  #: chain heads to heads.jsonl (monitor.evidence.anchors)


class Housekeeping:
    """One daemon's heartbeat, departed nodes, claim pruning, outbox gauge and anchoring."""

    def __init__(
        self,
        repository: NodeUpkeep,
        node: str,
        started_at: datetime,
        *,
        forget_after: timedelta = timedelta(days=1),
        slot_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """``forget_after``: a node silent this long leaves the heartbeat list
        (``settings.fleet.forget_after``); ``slot_clock``: the daemon's clock, whose times
        the probe claims' slots are (old claims are pruned by it, not by the machine's:
        under a test's clock, a claim made a moment ago is not two days old)."""
        self._repository = repository
        self._slot_clock = slot_clock
        self._node = node
        self._started_at = started_at
        self._forget_after = forget_after
        self._last_prune: datetime | None = None
        self._last_anchor: datetime | None = None

    async def beat(self) -> None:
        """Write this node's heartbeat row."""
        try:
            await asyncio.to_thread(
                self._repository.beat, self._node, os.getpid(), __version__, self._started_at
            )
        except Exception as error:
            log.error("heartbeat not written: %s", error)

    async def leave(self) -> None:
        """Delete this node's heartbeat row (a clean stop)."""
        try:
            await asyncio.to_thread(self._repository.forget_node, self._node)
        except Exception as error:
            log.error("heartbeat row not removed: %s", error)

    async def tidy(self, evidence_dir: Path) -> None:
        """Each turn: forget departed nodes, the outbox gauge; hourly: delete old claims;
        daily: anchor the heads."""
        now = datetime.now(UTC)
        await self.forget_departed(now)
        try:
            if self._last_prune is None or now - self._last_prune >= PRUNE_EVERY:
                self._last_prune = now
                pruned = await asyncio.to_thread(
                    self._repository.prune_claims, self._slot_clock() - CLAIM_RETENTION
                )
                log.debug("pruned %d old probe claims", pruned)
            if metrics.enabled():
                metrics.set_outbox_depth(await asyncio.to_thread(self._repository.outbox_depth))
        except Exception as error:
            log.error("housekeeping failed: %s", error)
        if self._last_anchor is None or now - self._last_anchor >= ANCHOR_EVERY:
            await self.anchor(evidence_dir, now)

    async def forget_departed(self, now: datetime) -> None:
        """Remove the heartbeat rows of nodes silent for ``forget_after``: a crashed node
        (a SIGKILL, a machine gone) leaves no line behind for good. One INFO line each,
        from the node whose delete removed the row."""
        try:
            departed = await asyncio.to_thread(
                self._repository.forget_silent_nodes, now - self._forget_after
            )
        except Exception as error:
            log.error("departed nodes not forgotten: %s", error)
            return
        for beat in departed:
            log.info(
                "node %s forgotten: silent since %s (settings.fleet.forget_after %s)",
                beat.node,
                beat.beat_at.isoformat(timespec="seconds"),
                format_duration(self._forget_after),
            )

    async def anchor(self, evidence_dir: Path, now: datetime) -> None:
        """Append every target's chain head to heads.jsonl (at start, daily, at shutdown)."""
        self._last_anchor = now
        try:
            written = await asyncio.to_thread(write_anchors, self._repository, evidence_dir, now)
        except Exception as error:  # the next attempt may succeed; probing goes on
            log.error("chain heads not anchored in %s: %s", evidence_dir / HEADS_FILE, error)
        else:
            log.debug("anchored %d chain head(s) in %s", written, evidence_dir / HEADS_FILE)


def node_name(*, cluster: bool, host: str, pid: int, override: str | None) -> str:
    """This daemon's name in the heartbeat rows (and in ``monitor_degraded``).

    ``$MONITOR_NODE`` when set; else the host name, and in cluster mode the host name and
    the pid, since several nodes of a fleet may run on one machine.
    """
    if override:
        return override
    return f"{host}:{pid}" if cluster else host


def live_nodes(
    nodes: list[NodeBeat], *, me: str, host: str, now: datetime, fresh_within: timedelta
) -> list[NodeBeat]:
    """Other daemons that look alive: a heartbeat within ``fresh_within``, and, for a node
    on this machine, a process that still exists (a daemon just killed is not alive)."""
    alive = []
    for beat in nodes:
        if beat.node == me or now - beat.beat_at > fresh_within:
            continue
        if on_host(beat.node, host) and not process_exists(beat.pid):
            continue
        alive.append(beat)
    return alive
