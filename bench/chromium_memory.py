"""Chromium's memory with 1, 2 and 4 probe pages open, for variants of its launch arguments.

    .venv/bin/python bench/chromium_memory.py [--rounds 3] [--contexts 1,2,4] [--variants a,b]
    # from the repository root; about 12 s per variant, N and round (9 variants, 3 rounds:
    # 15-20 min); the table goes to stdout, progress to stderr

The imitation runs in its own process (``python -m monitor.imitation --port 0``). For each
round, variant and number of contexts N, a worker process (this script with ``--worker``)
drives the project's own :class:`~monitor.probes.browser.BrowserEngine`, with
``CHROMIUM_FLAGS`` replaced by the variant's arguments:

1. one session on an rdv-service-public page, closed: Chromium is launched and idle, as in
   the daemon between browser probes; the parent samples ("idle");
2. N sessions at once, each walking a target with the platform's own flow (even numbers a
   legacy-booking target, two desks; odd numbers an rdv-service-public link), up to and
   including ``final_snapshot`` (the HTML and a full-page PNG, as the engine keeps them);
   the sessions stay open while the parent samples ("open");
3. the sessions close and the worker prints what it saw: each final page's finding (the
   platform's ``recognise``), the SHA-256 of its HTML and PNG, and the PNG's size.

Each sample, a second after the worker's word, sums ``/proc/PID/smaps_rollup`` over the
worker's descendants (the Playwright driver, Chromium and its helpers; not the worker's own
Python) and counts them; it is the median of five reads 0.3 s apart. Two figures:

- PSS, the issue's measure: each page shared by several processes is divided among them;
- its anonymous and shared-memory part (``Pss_Anon + Pss_Shmem``, "own"): pages only this
  tree can share (heaps, IPC buffers). The rest of PSS is file pages, mostly the 250 MB
  Chromium binary, and those are divided among *every* process on the machine that maps
  it: another job's Chromium makes ours look smaller. On a shared machine the "own" part
  is the one to compare between variants; on a machine running only the daemon, the file
  part is roughly the binary's resident pages, whatever the number of processes.

Variants are interleaved (the order rotates each round) and the table gives medians over
rounds. Evidence is compared with the ``current`` variant's: "same" when every final page's
HTML and PNG are byte for byte those of ``current``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
# This tree's monitor package, not the one an editable install may point at (another
# checkout): the launch arguments measured are the ones in this tree.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import probes
import proctree

MIB = 1024 * 1024
WORKER_TIMEOUT = 180  #: seconds a worker may take to reach each of its steps

#: Launch arguments to try, added to the engine's CHROMIUM_FLAGS ("current"); "before" takes
#: away the engine's --disable-features (Playwright's own list then applies, and Chromium
#: preloads its address-bar popup per window: the flags before that was switched off).
#: Playwright already passes --disable-dev-shm-usage and --headless; a second
#: --disable-features would replace the engine's list, so site isolation is switched off
#: with --disable-site-isolation-trials alone.
EXTRA: dict[str, tuple[str, ...]] = {
    "current": (),
    "before": (),
    "renderer-process-limit=1": ("--renderer-process-limit=1",),
    "disable-site-isolation-trials": ("--disable-site-isolation-trials",),
    "js-flags=--lite-mode": ("--js-flags=--lite-mode",),
    "js-flags=--max-old-space-size=64": ("--js-flags=--max-old-space-size=64",),
    "enable-low-end-device-mode": ("--enable-low-end-device-mode",),
    "disable-software-rasterizer": ("--disable-software-rasterizer",),
    "no-zygote": ("--no-zygote",),
}


def variant_flags(name: str) -> tuple[str, ...]:
    """The whole argument list of a variant (``a+b`` combines two)."""
    from monitor.probes.browser import CHROMIUM_FLAGS

    flags = list(CHROMIUM_FLAGS)
    for part in name.split("+"):
        if part == "before":
            flags = [f for f in flags if not f.startswith("--disable-features=")]
        flags.extend(EXTRA[part])
    return tuple(flags)


# --- the worker: one Chromium, N sessions held open while the parent samples ----------------


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        return (0, 0)
    width, height = struct.unpack(">II", png[16:24])
    return (width, height)


def wait_for_parent() -> None:
    if sys.stdin.readline().strip() != "go":
        raise SystemExit("the parent went away")


async def worker(base_url: str, variant: str, contexts: int) -> None:
    import monitor.probes.browser as browser
    from monitor.config import load_config
    from monitor.platforms import ADAPTERS, FlowOptions

    browser.CHROMIUM_FLAGS = variant_flags(variant)
    directory = Path(tempfile.mkdtemp(prefix="bench-chromium-memory-"))
    path = probes.write_config(
        directory, probes.targets(base_url, max(contexts, 2), "browser"), concurrency=contexts
    )
    targets = load_config(path, env={}).targets()
    engine = browser.BrowserEngine(
        executable_path=probes.CHROMIUM,
        user_agent="prefecture-monitor/bench (+https://example.invalid)",
        timeout=45,
        max_contexts=contexts,
    )
    release = asyncio.Event()
    opened: list[None] = []
    all_open = asyncio.Event()

    async def probe(target: Any) -> list[dict[str, Any]]:
        async with engine.session() as session:
            finals = await ADAPTERS[target.platform].flow(session, target, FlowOptions())
            opened.append(None)
            if len(opened) == contexts:
                all_open.set()
            await release.wait()  # the context and its page stay open while the parent reads
        seen = []
        for final in finals:
            finding = ADAPTERS[target.platform].recognise(final, target)
            png = final.screenshot or b""
            seen.append(
                {
                    "target": target.id,
                    "label": final.label,
                    "finding": f"{finding.status}/{finding.reason}",
                    "html": hashlib.sha256(final.html.encode()).hexdigest()[:16],
                    "png": hashlib.sha256(png).hexdigest()[:16],
                    "png_size": png_size(png),
                    "png_bytes": len(png),
                }
            )
        return seen

    try:
        async with engine.session() as session:  # launch Chromium, then leave it idle
            await session.open(targets[1].url)
        print("idle", flush=True)
        await asyncio.to_thread(wait_for_parent)
        began = time.monotonic()
        running = asyncio.gather(*(probe(t) for t in targets[:contexts]))
        await asyncio.wait_for(all_open.wait(), WORKER_TIMEOUT)
        seconds = time.monotonic() - began
        print("open", flush=True)
        await asyncio.to_thread(wait_for_parent)
        release.set()
        pages = [page for seen in await running for page in seen]
        print(json.dumps({"seconds": round(seconds, 2), "pages": pages}), flush=True)
    finally:
        await engine.aclose()


# --- the parent: the imitation, the workers, the samples, the table -------------------------


class Sample(NamedTuple):
    pss: float  #: MiB, the PSS of the worker's descendants
    own: float  #: MiB, its anonymous and shared-memory part (see the module docstring)
    processes: int


def sample(worker_pid: int) -> Sample:
    """The worker's descendants a second after it said so: the median of five reads."""
    time.sleep(1)  # a closed context's renderer takes a moment to exit
    reads = []
    for _ in range(5):
        pids = [pid for pid in proctree.tree(worker_pid) if pid != worker_pid]
        parts = [proctree.rollup(pid) for pid in pids]
        pss = sum(part.get("Pss", 0) for part in parts) / MIB
        own = sum(part.get("Pss_Anon", 0) + part.get("Pss_Shmem", 0) for part in parts) / MIB
        reads.append(Sample(pss, own, len(pids)))
        time.sleep(0.3)
    return Sample(
        statistics.median(r.pss for r in reads),
        statistics.median(r.own for r in reads),
        statistics.median_high(r.processes for r in reads),
    )


def expect(process: subprocess.Popen[str], word: str) -> str:
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith(word):
        raise RuntimeError(f"worker said {line!r}, expected {word!r}")
    return line


def go(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.write("go\n")
    process.stdin.flush()


def run_worker(base_url: str, variant: str, contexts: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", base_url, "--variant", variant]
    command += ["--contexts", str(contexts)]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as w:
        try:
            expect(w, "idle")
            idle = sample(w.pid)
            go(w)
            expect(w, "open")
            opened = sample(w.pid)
            go(w)
            result: dict[str, Any] = json.loads(expect(w, "{"))
        finally:
            assert w.stdin is not None
            w.stdin.close()  # a worker still waiting for "go" reads the end and exits
            w.wait(timeout=WORKER_TIMEOUT)
    if w.returncode != 0:
        raise RuntimeError(f"worker {variant} × {contexts} exited with {w.returncode}")
    result.update(idle=idle, open=opened)
    return result


def evidence_summary(runs: list[dict[str, Any]], baseline: list[dict[str, Any]]) -> str:
    """Findings, and whether every final page is byte for byte the baseline's."""
    findings = sorted({page["finding"] for run in runs for page in run["pages"]})
    reference = {(p["target"], p["label"]): p for run in baseline for p in run["pages"]}
    html_same = png_same = True
    sizes = set()
    for run in runs:
        for page in run["pages"]:
            ref = reference[page["target"], page["label"]]
            html_same &= page["html"] == ref["html"]
            png_same &= page["png"] == ref["png"]
            sizes.add("{}×{}".format(*page["png_size"]))
    what = ", ".join(findings)
    html = "same HTML" if html_same else "HTML DIFFERS"
    png = "same PNG" if png_same else f"PNG differs ({', '.join(sorted(sizes))})"
    return f"{what}; {html}; {png}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--contexts", default="1,2,4")
    parser.add_argument("--variants", default=",".join(EXTRA), help="names; a+b combines")
    parser.add_argument("--worker", metavar="BASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--variant", default="current", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        asyncio.run(worker(args.worker, args.variant, int(args.contexts)))
        return
    variants = args.variants.split(",")
    if "current" not in variants:
        variants.insert(0, "current")
    counts = [int(n) for n in args.contexts.split(",")]
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    failures: dict[str, int] = {}
    began = time.monotonic()
    with probes.imitation() as base_url:
        for round_ in range(args.rounds):
            shift = round_ % len(variants)
            for variant in variants[shift:] + variants[:shift]:
                for n in counts:
                    try:
                        result = run_worker(base_url, variant, n)
                    except (RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
                        failures[variant] = failures.get(variant, 0) + 1
                        print(f"round {round_ + 1} {variant} {n}: FAILED {exc}", file=sys.stderr)
                        continue
                    runs.setdefault((variant, n), []).append(result)
                    idle, opened = result["idle"], result["open"]
                    print(
                        f"round {round_ + 1} {variant:34} {n} open: "
                        f"idle {idle.pss:5.0f} MiB ({idle.own:3.0f} own, {idle.processes}), "
                        f"open {opened.pss:5.0f} MiB ({opened.own:3.0f} own, "
                        f"{opened.processes}), {result['seconds']:.1f} s, "
                        f"load {os.getloadavg()[0]:.1f}",
                        file=sys.stderr,
                    )
    print_table(variants, counts, runs, failures, args.rounds, time.monotonic() - began)


def print_table(
    variants: list[str],
    counts: list[int],
    runs: dict[tuple[str, int], list[dict[str, Any]]],
    failures: dict[str, int],
    rounds: int,
    seconds: float,
) -> None:
    def median(samples: list[Sample]) -> Sample:
        return Sample(
            statistics.median(s.pss for s in samples),
            statistics.median(s.own for s in samples),
            statistics.median_high(s.processes for s in samples),
        )

    def cell(s: Sample) -> str:
        return f"{s.pss:.0f} / {s.own:.0f} ({s.processes})"

    most = counts[-1]
    print(
        f"Chromium {probes.CHROMIUM}, {rounds} rounds, medians. Each cell: PSS / its "
        f"anonymous + shared-memory part (MiB) of the Playwright driver, Chromium and its "
        f"helpers, (processes). Load at the end {os.getloadavg()[0]:.1f}; "
        f"{seconds / 60:.1f} min.\n"
    )
    header = ["variant", "idle", *(f"{n} open" for n in counts), f"Δ {most} open vs current"]
    header += [f"s to open {most}", "evidence (every N and round)"]
    print("| " + " | ".join(header) + " |")
    print("| --- |" + " ---: |" * (len(header) - 2) + " --- |")
    base = median([run["open"] for run in runs.get(("current", most), [])])
    baseline = [run for n in counts for run in runs.get(("current", n), [])]
    for variant in variants:
        every = [run for n in counts for run in runs.get((variant, n), [])]
        if not every:
            print(f"| `{variant}` | every run failed |")
            continue
        cells = [f"`{variant}`", cell(median([run["idle"] for run in every]))]
        for n in counts:
            cells.append(cell(median([run["open"] for run in runs.get((variant, n), [])])))
        last = median([run["open"] for run in runs[variant, most]])
        cells.append(f"{last.pss - base.pss:+.0f} / {last.own - base.own:+.0f}")
        cells.append(f"{statistics.median(run['seconds'] for run in runs[variant, most]):.1f}")
        failed = f"; {failures[variant]} run(s) FAILED" if variant in failures else ""
        cells.append(evidence_summary(every, baseline) + failed)
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
