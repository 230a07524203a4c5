"""Fleet: probes per second and CPU per probe for 1, 2 and 3 cluster-mode daemons.

    .venv/bin/python bench/fleet.py [--targets 150] [--interval 5s] [--hosts 10]
                                    [--warmup 20] [--seconds 40] [--nodes 1,2,3]

Not a test and not in CI. Everything stays on 127.0.0.1: a throw-away PostgreSQL
(tests/pg.py), ``--hosts`` imitation sites each in its own process (each its own host for
politeness), ``--targets`` rdv-service-public targets (one request per probe, http
engine) spread over them. For each node count, on a fresh database: ``monitor db
upgrade``, N ``monitor run --cluster`` processes, ``--warmup`` seconds, then over
``--seconds`` seconds the outcomes recorded (probes per second) and the CPU time of the
node processes (utime + stime from /proc) divided by those probes, and how busy the
whole machine was (/proc/stat: PostgreSQL and the imitation share its cores); the offered
load (targets / interval) is printed beside them, with the duplicate slots (none
expected) and the PostgreSQL connections each node held at most (sampled every second from
``pg_stat_activity``, where a node's connections are named ``monitor NODE``).
Prints a Markdown table (for BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "tests"))

from pg import create_database, pg_cluster  # noqa: E402
from sqlalchemy import Engine, func, select, text  # noqa: E402

from monitor.config.durations import parse_duration  # noqa: E402
from monitor.store import create_engine_for  # noqa: E402
from monitor.store.rows import outcomes, probe_claims  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
#: An RDV Service Public page (one request per probe); the number ends it.
QUERY = "departement=&motif_name_with_location_type=x&public_link_organisation_id="


def start_sites(count: int) -> tuple[list[subprocess.Popen[str]], list[str]]:
    processes, urls = [], []
    for _ in range(count):
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor.imitation", "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=PROJECT,
        )
        assert process.stdout is not None
        urls.append(process.stdout.readline().strip())
        processes.append(process)
    return processes, urls


def config_text(database: str, evidence: Path, urls: list[str], targets: int, every: str) -> str:
    lines = []
    for index in range(targets):
        base = urls[index % len(urls)]
        lines.append(
            f"""      - id: c{index}
        name: Cible {index}
        platform: rdv-service-public
        engine: http
        url: {base}/prendre_rdv?{QUERY}9{index:04d}"""
        )
    body = "\n".join(lines)
    return f"""
version: 1
settings:
  database: {database}
  cluster: true
  evidence_dir: {evidence}
  user_agent: "prefecture-monitor/bench (+https://example.invalid)"
  schedule: {{interval: {every}, jitter: 10%}}
  politeness: {{per_host_concurrency: 4, per_host_min_gap: 0s, backoff_max: 1m}}
  connectivity_check: []
prefectures:
  - id: b
    name: Bench
    targets:
{body}
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat (idle + iowait idle)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields) - fields[3] - fields[4], sum(fields)


def count(database: str, query: object) -> int:
    engine = create_engine_for(database)
    try:
        with engine.connect() as connection:
            return int(connection.execute(query).scalar_one())  # type: ignore[call-overload]
    finally:
        engine.dispose()


#: The parts of a node whose connections say so (monitor.daemon.nodes.application_name).
KINDS = ("task queue", "host locks")


def connections_held(engine: Engine) -> dict[str, Counter[str]]:
    """The connections each node holds now, by the part of the node they serve: named
    ``monitor NODE task queue``, ``monitor NODE host locks``, or ``monitor NODE`` (store)."""
    query = text(
        "SELECT application_name, count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name LIKE 'monitor %' "
        "GROUP BY application_name"
    )
    held: dict[str, Counter[str]] = {}
    with engine.connect() as connection:
        for name, count_ in connection.execute(query):
            kind = next((kind for kind in KINDS if name.endswith(f" {kind}")), "store")
            node = name.removesuffix(f" {kind}")
            held.setdefault(node, Counter())[kind] = int(count_)
    return held


def sample_connections(database: str, seconds: float) -> tuple[int, Counter[str]]:
    """For ``seconds``, the most connections any one node held (sampled each second), and
    the most of each kind."""
    engine = create_engine_for(database)
    most, by_kind = 0, Counter[str]()
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for kinds in connections_held(engine).values():
                most = max(most, sum(kinds.values()))
                by_kind |= kinds  # the greatest of each
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    finally:
        engine.dispose()
    return most, by_kind


def measure(
    server_url: str, nodes: int, urls: list[str], args: argparse.Namespace, work: Path
) -> dict[str, float]:
    database = create_database(server_url, f"fleet_{nodes}")
    config = work / f"fleet-{nodes}.yaml"
    config.write_text(
        config_text(database, work / f"evidence-{nodes}", urls, args.targets, args.interval)
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    monitor = [sys.executable, "-m", "monitor", "-q", "--config", str(config)]
    subprocess.run([*monitor, "db", "upgrade"], check=True, cwd=PROJECT, env=env)
    logs = [(work / f"fleet-{nodes}-{i}.log").open("w") for i in range(nodes)]
    daemons = [
        subprocess.Popen(
            [*monitor, "run", "--cluster"],
            cwd=PROJECT,
            env={**env, "MONITOR_NODE": f"bench-{i}"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for i, log in enumerate(logs)
    ]
    try:
        time.sleep(args.warmup)
        began, cpu_before = datetime.now(UTC), sum(cpu_seconds(d.pid) for d in daemons)
        busy_before = machine_busy()
        most_connections, by_kind = sample_connections(database, args.seconds)
        ended, cpu_after = datetime.now(UTC), sum(cpu_seconds(d.pid) for d in daemons)
        busy_after = machine_busy()
    finally:
        for daemon in daemons:
            daemon.send_signal(signal.SIGTERM)
        for daemon in daemons:
            daemon.wait(timeout=60)
        for log in logs:
            log.close()
    window = outcomes.c.started_at.between(began, ended)
    probes = count(database, select(func.count()).select_from(outcomes).where(window))
    claims = count(database, select(func.count()).select_from(probe_claims))
    distinct = count(
        database,
        select(func.count()).select_from(
            select(probe_claims.c.target, probe_claims.c.slot).distinct().subquery()
        ),
    )
    seconds = (ended - began).total_seconds()
    return {
        "nodes": nodes,
        "probes_per_s": probes / seconds,
        "cpu_ms_per_probe": 1000 * (cpu_after - cpu_before) / max(probes, 1),
        "duplicates": claims - distinct,
        "node_cores": (cpu_after - cpu_before) / seconds,
        "machine_busy": (busy_after[0] - busy_before[0]) / (busy_after[1] - busy_before[1]),
        "connections_per_node": most_connections,
        **{f"most_{kind.replace(' ', '_')}": by_kind[kind] for kind in ("store", *KINDS)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, default=150)
    parser.add_argument("--interval", default="5s")
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--warmup", type=float, default=20)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--nodes", default="1,2,3")
    parser.add_argument("--keep", type=Path, help="keep the configs and node logs here")
    args = parser.parse_args()
    offered = args.targets / parse_duration(args.interval).total_seconds()
    sites, urls = start_sites(args.hosts)
    rows = []
    try:
        with pg_cluster() as server, tempfile.TemporaryDirectory() as tmp:
            work = args.keep or Path(tmp)
            work.mkdir(parents=True, exist_ok=True)
            for nodes in (int(n) for n in args.nodes.split(",")):
                row = measure(server.url, nodes, urls, args, work)
                rows.append(row)
                print(row, file=sys.stderr, flush=True)
    finally:
        for site in sites:
            site.terminate()
    one = rows[0]["probes_per_s"] if rows else 0.0
    print(
        f"\n{args.targets} targets every {args.interval} over {args.hosts} imitation hosts "
        f"(offered {offered:.0f} probes/s), {os.cpu_count()} CPUs, measured over "
        f"{args.seconds:.0f} s after {args.warmup:.0f} s of warm-up:\n"
    )
    print(
        "| nodes | probes/s | × one node | CPU ms per probe | duplicate slots "
        "| cores used by the nodes | machine busy | connections per node (most) "
        "| store / task queue / host locks (most) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        ratio = row["probes_per_s"] / one if one else 0.0
        print(
            f"| {row['nodes']:.0f} | {row['probes_per_s']:.1f} | {ratio:.2f} | "
            f"{row['cpu_ms_per_probe']:.1f} | {row['duplicates']:.0f} | "
            f"{row['node_cores']:.2f} | {100 * row['machine_busy']:.0f} % | "
            f"{row['connections_per_node']:.0f} | {row['most_store']:.0f} / "
            f"{row['most_task_queue']:.0f} / {row['most_host_locks']:.0f} |"
        )


if __name__ == "__main__":
    main()
