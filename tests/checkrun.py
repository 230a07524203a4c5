"""Running the real ``monitor`` command on a config written for a test.

``write_config`` writes a prefectures.yaml whose targets point at the imitation; ``monitor``
runs ``python -m monitor`` in a subprocess (the installed entry point, a fresh process, as
a user runs it) and returns its exit code, stdout and stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helpers


@dataclass(frozen=True)
class Run:
    """One finished ``monitor`` process."""

    code: int
    stdout: str
    stderr: str

    def rows(self) -> list[dict[str, Any]]:
        """The outcome rows of ``check --format json``."""
        rows: list[dict[str, Any]] = json.loads(self.stdout)
        return rows


def write_config(
    path: Path,
    *,
    targets: Sequence[Mapping[str, Any]],
    database: str,
    evidence_dir: Path,
    probe_timeout: str = "45s",
    chromium: str | None = None,
    concurrency: int = 8,
    max_contexts: int = 4,
    prefecture: str = "t",
) -> Path:
    """The ``monitor check`` preset of ``helpers.write_config``: one prefecture holding
    ``targets``, every target of a host at once, the browser at ``chromium``."""
    return helpers.write_config(
        path,
        targets=targets,
        database=database,
        prefecture=prefecture,
        evidence_dir=str(evidence_dir),
        probe_timeout=probe_timeout,
        politeness={"per_host_concurrency": concurrency, "per_host_min_gap": "0s"},
        browser={"executable_path": chromium, "max_contexts": max_contexts},
    )


def monitor(*args: str, timeout: float = 300, env: Mapping[str, str] | None = None) -> Run:
    """Run ``python -m monitor ARGS`` and wait for it."""
    environment = {**os.environ, **(env or {})}
    environment.pop("MONITOR_DATABASE_URL", None)  # the test's config says which database
    done = subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)
