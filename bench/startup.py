"""CPU the CLI spends starting: `monitor --help`, `status` and `status --heartbeat`.

    .venv/bin/python bench/startup.py [--rounds 15] [--before DIR]

Each command runs as a subprocess on a small migrated SQLite database (the repository's
``prefectures.yaml`` as the config, in a temporary directory); its user + system CPU is read
from ``os.wait4``, which reports that one child. Commands run interleaved, one of each per
round, after a warm-up round (which also writes the bytecode caches an installed package
has); the figures are medians. With ``--before DIR`` (a checkout of an older revision, e.g.
``git archive main | tar -x -C DIR``), the same commands run from that source tree too, in
the same rounds, so both columns see the same machine. Two baselines run in the same
rounds: Python alone, and Python importing the libraries ``status`` cannot do without
(click, the config's pydantic and YAML, SQLAlchemy with its SQLite dialect; the PostgreSQL
dialect only for a PostgreSQL URL since monitor.store.schema.with_postgresql_options), with
the garbage collector on and off (``status`` runs with it off: monitor.cli.QUICK_READS).
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
#: What each row runs: its label, then monitor's arguments.
COMMANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("`monitor --help`", ("--help",)),
    ("`monitor status`", ("status",)),
    ("`monitor status --heartbeat`", ("status", "--heartbeat")),
    (
        "`monitor status --heartbeat`, a channel configured",
        ("--config", "with-channel.yaml", "status", "--heartbeat"),
    ),
)
#: The channel of ``with-channel.yaml`` (nothing is sent: status only reads).
CHANNEL = '\nchannels:\n  - id: hook\n    url: "json://127.0.0.1:9/hook"\n'
BASELINES: dict[str, str] = {
    "baseline: Python alone": "pass",
    # pydantic imports its parts on first use: BaseModel and its types are what a model needs
    "baseline: the libraries status needs": (
        "import click, yaml, sqlalchemy, sqlalchemy.dialects.sqlite; "
        "from pydantic import BaseModel, types"
    ),
    # status runs without the cyclic garbage collector (monitor.cli.QUICK_READS): its floor
    "baseline: the same, the garbage collector off": (
        "import gc; gc.disable(); import click, yaml, sqlalchemy, sqlalchemy.dialects.sqlite; "
        "from pydantic import BaseModel, types"
    ),
}


def environment(source: Path, workdir: Path) -> dict[str, str]:
    """The environment of a run from ``source``: bytecode cached (as an installed package
    has it; the warm-up round writes it), ./prefectures.yaml and the bench's database."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("MONITOR_CONFIG", None)
    env["MONITOR_DATABASE_URL"] = f"sqlite:///{workdir / 'monitor.db'}"
    return env


def cpu_seconds(argv: list[str], env: dict[str, str], workdir: Path, *, may_fail: bool) -> float:
    """User + system CPU of one run of ``argv``; exit 1 is accepted when ``may_fail``."""
    process = subprocess.Popen(
        argv, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    assert process.stderr is not None
    errors = process.stderr.read().decode()
    process.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0 and not (may_fail and code == 1):
        raise SystemExit(f"{' '.join(argv)} exited {code}: {errors}")
    return usage.ru_utime + usage.ru_stime


def prepare(workdir: Path, sources: list[Path]) -> None:
    """The config and a migrated database in ``workdir``."""
    shutil.copy(ROOT / "prefectures.yaml", workdir / "prefectures.yaml")
    config = (ROOT / "prefectures.yaml").read_text(encoding="utf-8")
    assert "\nchannels: []\n" in config, "prefectures.yaml: where does the channel go?"
    with_channel = config.replace("\nchannels: []\n", CHANNEL)
    (workdir / "with-channel.yaml").write_text(with_channel, encoding="utf-8")
    for source in sources:  # each revision's migrations, the newest last
        subprocess.run(
            [PYTHON, "-m", "monitor", "db", "upgrade"],
            cwd=workdir,
            env=environment(source, workdir),
            check=True,
            stdout=subprocess.DEVNULL,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--before", type=Path, help="an older source tree to compare with")
    options = parser.parse_args(argv)
    sources = [("before", options.before)] if options.before else []
    sources.append(("after" if options.before else "this tree", ROOT))
    samples: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="startup-") as tmp:
        workdir = Path(tmp)
        prepare(workdir, [source for _, source in sources])
        for round_ in range(options.rounds + 1):  # round 0 warms the caches up
            runs: list[tuple[str, str, list[str], dict[str, str], bool]] = []
            for what, args in COMMANDS:
                for label, source in sources:
                    # --heartbeat exits 1: no daemon ever beat on the bench's database.
                    command = [PYTHON, "-m", "monitor", *args]
                    runs.append((what, label, command, environment(source, workdir), True))
            for name, code in BASELINES.items():
                runs.append((name, "-", [PYTHON, "-c", code], environment(ROOT, workdir), False))
            for what, label, command, env, may_fail in runs:
                seconds = cpu_seconds(command, env, workdir, may_fail=may_fail)
                if round_:
                    samples.setdefault((what, label), []).append(seconds)
    print(
        f"CPython {sys.version.split()[0]}, {os.cpu_count()} CPU(s), load average "
        f"{os.getloadavg()[0]:.1f} at the end, {options.rounds} rounds after a warm-up; "
        "median user+sys CPU\n"
    )
    labels = [label for label, _ in sources]
    print("| what | " + " | ".join(labels) + " |")
    print("| --- | " + " | ".join("---:" for _ in labels) + " |")
    for what, _ in COMMANDS:
        cells = [f"{statistics.median(samples[(what, label)]):.3f} s" for label in labels]
        print(f"| {what} | " + " | ".join(cells) + " |")
    for name in BASELINES:
        cells = [f"{statistics.median(samples[(name, '-')]):.3f} s"] * len(labels)
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
