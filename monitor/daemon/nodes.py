"""Which heartbeat rows are this machine's, whether a process still exists, and how a
node names its database connections.

Apart from the daemon's modules, so that ``monitor status --heartbeat``, run by systemd
every minute, imports only this and :mod:`monitor.daemon.heartbeat`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.store.coordination import NodeBeat


def on_host(node: str, host: str) -> bool:
    """Whether ``node`` is named after ``host``: the host name alone, or ``host:pid``."""
    return node == host or node.startswith(f"{host}:")


def local_node(
    beats: Sequence[NodeBeat],
    *,
    host: str,
    override: str | None,
    alive: Callable[[int], bool],
) -> str | None:
    """This machine's node: ``override`` (``$MONITOR_NODE``) when set; else the node of a
    daemon running here (named after ``host``, its process ``alive``), the latest beat
    first; None when no daemon runs here."""
    if override:
        return override
    for beat in beats:
        if on_host(beat.node, host) and alive(beat.pid):
            return beat.node
    return None


def application_name(node: str, part: str | None = None) -> str:
    """What a node's PostgreSQL connections say in ``pg_stat_activity.application_name``:
    ``monitor NODE``, and the part of the daemon they serve (``task queue``, ``host
    locks``); cut to PostgreSQL's 63 bytes, the part kept."""
    suffix = "" if part is None else f" {part}"
    room = 63 - len(f"monitor {suffix}".encode())
    name = node.encode()[:room].decode(errors="ignore")
    return f"monitor {name}{suffix}"


def process_exists(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (someone else's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True
