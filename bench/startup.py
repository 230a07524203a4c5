"""CPU the CLI spends starting: `monitor --help`, `status` and `status --heartbeat`.

    .venv/bin/python bench/startup.py [--rounds 15] [--before DIR]

Each command runs as a subprocess on a small migrated SQLite database (the repository's
``prefectures.yaml`` as the config, in a temporary directory); its user + system CPU is read
from ``os.wait4``, which reports that one child. Commands run interleaved, one of each per
round, after a warm-up round (which also writes the bytecode caches an installed package
has); the figures are medians. With ``--before DIR`` (a checkout of
an older revision, e.g. ``git archive main | tar -x -C DIR``), the same commands run from
that source tree too, in the same rounds, so both columns see the same machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
COMMANDS: tuple[tuple[str, ...], ...] = (
    ("--help",),
    ("status",),
    ("status", "--heartbeat"),
)


def environment(source: Path) -> dict[str, str]:
    """The environment of a run from ``source``: bytecode cached (as an installed package
    has it; the warm-up round writes it), no config named but ./prefectures.yaml."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("MONITOR_CONFIG", None)
    return env


def cpu_seconds(source: Path, args: tuple[str, ...], workdir: Path) -> float:
    """User + system CPU of one ``python -m monitor ARGS`` run from ``source``."""
    env = environment(source)
    env["MONITOR_DATABASE_URL"] = f"sqlite:///{workdir / 'monitor.db'}"
    process = subprocess.Popen(
        [PYTHON, "-m", "monitor", *args],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    assert process.stderr is not None
    errors = process.stderr.read().decode()
    process.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    # --heartbeat exits 1 when no daemon ever beat on this database, which is the case here.
    if code not in (0, 1) or (code == 1 and "--heartbeat" not in args):
        raise SystemExit(f"monitor {' '.join(args)} from {source} exited {code}: {errors}")
    return usage.ru_utime + usage.ru_stime


def prepare(workdir: Path, sources: list[Path]) -> None:
    """The config and a migrated database in ``workdir``."""
    shutil.copy(ROOT / "prefectures.yaml", workdir / "prefectures.yaml")
    for source in sources:  # each revision's migrations, the newest last
        env = environment(source)
        database = f"sqlite:///{workdir / 'monitor.db'}"
        subprocess.run(
            [PYTHON, "-m", "monitor", "--database", database, "db", "upgrade"],
            cwd=workdir,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--before", type=Path, help="an older source tree to compare with")
    options = parser.parse_args(argv)
    sources = [("before", options.before)] if options.before else []
    sources.append(("after" if options.before else "this tree", ROOT))
    samples: dict[tuple[str, tuple[str, ...]], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="startup-") as tmp:
        workdir = Path(tmp)
        prepare(workdir, [source for _, source in sources])
        for round_ in range(options.rounds + 1):  # round 0 warms the caches up
            for args in COMMANDS:
                for label, source in sources:
                    seconds = cpu_seconds(source, args, workdir)
                    if round_:
                        samples.setdefault((label, args), []).append(seconds)
    print(
        f"CPython {sys.version.split()[0]}, {os.cpu_count()} CPU(s), "
        f"{options.rounds} rounds after a warm-up; median user+sys CPU\n"
    )
    labels = [label for label, _ in sources]
    print("| command | " + " | ".join(labels) + " |")
    print("| --- | " + " | ".join("---:" for _ in labels) + " |")
    for args in COMMANDS:
        cells = [f"{statistics.median(samples[(label, args)]):.3f} s" for label in labels]
        print(f"| `monitor {' '.join(args)}` | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
