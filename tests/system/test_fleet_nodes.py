"""Which heartbeat rows count as another live daemon (issue 15, item 4), and node names."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from monitor.daemon.housekeeping import live_nodes, node_name
from monitor.store.coordination import NodeBeat

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
FRESH = timedelta(minutes=3)


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def beat(node: str, age: float, pid: int | None = None) -> NodeBeat:
    at = NOW - timedelta(seconds=age)
    return NodeBeat(node, at, os.getpid() if pid is None else pid, "0.1.0", at)


@pytest.mark.parametrize(
    ("row", "alive"),
    [
        (beat("other-host", 10), True),
        (beat("other-host", 10, pid=1), True),  # another machine's pid says nothing here
        (beat("other-host", 600), False),  # stale
        (beat("me", 10), False),  # our own row from a previous life
        (beat("this-host", 10), True),  # same machine, process alive
        (beat("this-host:77", 10), True),
        (beat("this-host", 10, pid=_dead_pid()), False),  # same machine, just killed
        (beat("this-host:99", 10, pid=_dead_pid()), False),
    ],
)
def test_it_counts_fresh_rows_of_other_living_daemons(row: NodeBeat, alive: bool) -> None:
    found = live_nodes([row], me="me", host="this-host", now=NOW, fresh_within=FRESH)
    assert (found == [row]) is alive


def test_it_names_nodes_by_host_and_in_a_fleet_by_pid_too() -> None:
    assert node_name(cluster=False, host="h", pid=7, override=None) == "h"
    assert node_name(cluster=True, host="h", pid=7, override=None) == "h:7"
    assert node_name(cluster=True, host="h", pid=7, override="paris-1") == "paris-1"
