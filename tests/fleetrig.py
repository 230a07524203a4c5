"""Fleet nodes as real processes, for the system tests of cluster mode
(tests/system/test_cluster.py, tests/system/test_fleet_nodes_health.py).

``environment`` is the environment a node runs in (``$MONITOR_NODE`` only when given),
``start_node`` starts ``monitor run`` as one node with its log, ``wait_until`` polls a
condition, and ``rows`` runs one query against the fleet's database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from monitor.store import create_engine_for

PROJECT = Path(__file__).resolve().parents[1]


def environment(node: str | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without its ``$MONITOR_NODE``, plus ``extra``; the node
    name when given."""
    env = {key: value for key, value in os.environ.items() if key != "MONITOR_NODE"}
    env.update(extra or {})
    env["PYTHONUNBUFFERED"] = "1"
    if node:
        env["MONITOR_NODE"] = node
    return env


def start_node(
    config: Path, node: str, log: Path, extra: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``monitor run`` as node ``node``, its output appended to ``log``."""
    with log.open("ab") as stream:
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "-v", "run"],
            cwd=PROJECT,
            env=environment(node, extra),
            stdout=stream,
            stderr=subprocess.STDOUT,
        )


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def rows(database: str, query: object) -> list[tuple[object, ...]]:
    engine = create_engine_for(database)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(query)]  # type: ignore[call-overload]
    finally:
        engine.dispose()
