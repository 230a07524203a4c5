"""Where the http engine's CPU goes: one approach of ``bench/probes.py`` alone, per thread.

    PYTHONPATH=$PWD .venv/bin/python bench/http_cpu.py engine [--targets 200] [--rounds 3]
    PYTHONPATH=$PWD .venv/bin/python bench/http_cpu.py floor
    PYTHONPATH=$PWD .venv/bin/python bench/http_cpu.py single --cprofile /tmp/single.pstats

Approaches: ``engine`` (the daemon path, as ``bench/probes.py``), ``floor`` (the same-work
floor), ``bare`` (the bare httpx loop), and ``single``: the engine with every hand-off to a
thread made a plain call on the event loop (``off_loop`` and ``asyncio.to_thread``), so that
the whole probe runs in one thread and ``--cprofile`` (on ``time.process_time``) sees all
of it, the event loop and scheduler included: a true per-function CPU picture, which a
profile of the threaded engine cannot give (coroutine resumes, threads merged on the wrong
clock). ``single`` breaks the daemon's rule that CPU work stays off the loop: it is for
profiling, never a variant to compare speeds with.

Each round prints, per probe: the CPU of this process and of the imitation
(``proctree.cpu_split``), this process's user and system time and context switches
(``getrusage``), and the CPU of each kind of thread (``/proc/self/task``): the event loop,
the ``asyncio.to_thread`` executor (claims and recordings) and the ``off_loop`` workers
(``parse``, ``recognition``). Nothing is timed against a limit: these are figures to read.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import logging
import os
import resource
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import probes
import proctree
from same_work import Keeper

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def thread_cpu() -> dict[str, float]:
    """CPU seconds of this process's live threads, by kind (see the module docstring)."""
    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    kinds: dict[str, float] = {}
    tasks = Path(f"/proc/{os.getpid()}/task")
    for task in tasks.iterdir():
        try:
            fields = (task / "stat").read_text().rpartition(")")[2].split()
        except OSError:  # ended meanwhile
            continue
        seconds = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        tid = int(task.name)
        name = names.get(tid, "native")
        kind = "event loop" if tid == os.getpid() else name
        if name.startswith("asyncio_"):
            kind = "to_thread executor"
        kinds[kind] = kinds.get(kind, 0.0) + seconds
    return kinds


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """``off_loop`` and ``asyncio.to_thread`` as plain calls on the loop (profiling only)."""
    from monitor.attempt import probe
    from monitor.platforms import page

    async def inline(work: Callable[[], Any], *, name: str = "") -> Any:
        return work()

    async def to_thread(function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    saved = (page.off_loop, probe.off_loop, asyncio.to_thread)
    page.off_loop = probe.off_loop = inline  # type: ignore[assignment]
    asyncio.to_thread = to_thread  # type: ignore[assignment]
    try:
        yield
    finally:
        page.off_loop, probe.off_loop, asyncio.to_thread = saved  # type: ignore[assignment]


async def main_async(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.ERROR)
    probes.become_subreaper()
    workdir = Path(tempfile.mkdtemp(prefix="bench-http-cpu-"))
    n = args.targets
    with probes.imitation() as base:
        approach = {
            "engine": lambda: probes.daemon_engine(base, n, "http", args.concurrency, workdir),
            "single": lambda: probes.daemon_engine(base, n, "http", args.concurrency, workdir),
            "floor": lambda: probes.bare_httpx(
                base, n, args.concurrency, Keeper(Path(tempfile.mkdtemp(dir=workdir)))
            ),
            "bare": lambda: probes.bare_httpx(base, n, args.concurrency),
        }[args.approach]
        patched = single_thread() if args.approach == "single" else contextlib.nullcontext()
        with patched:
            async with approach() as one_round:
                await one_round()  # warm-up
                profile = cProfile.Profile(time.process_time) if args.cprofile else None
                for number in range(args.rounds):
                    me = os.getpid()
                    split, threads = proctree.cpu_split(me), thread_cpu()
                    usage = resource.getrusage(resource.RUSAGE_SELF)
                    began = time.perf_counter()
                    if profile is not None:
                        profile.enable()
                    await one_round()
                    if profile is not None:
                        profile.disable()
                    elapsed = time.perf_counter() - began
                    after = resource.getrusage(resource.RUSAGE_SELF)
                    split_after, threads_after = proctree.cpu_split(me), thread_cpu()

                    def per_probe(now: dict[str, float], then: dict[str, float]) -> str:
                        return ", ".join(
                            f"{kind} {(seconds - then.get(kind, 0.0)) / n * 1000:.1f}"
                            for kind, seconds in sorted(now.items())
                            if seconds - then.get(kind, 0.0) > 0
                        )

                    print(
                        f"round {number + 1} {args.approach}: {elapsed:.2f} s; ms CPU/probe by "
                        f"process: {per_probe(split_after, split)}; by thread: "
                        f"{per_probe(threads_after, threads)}; user "
                        f"{(after.ru_utime - usage.ru_utime) / n * 1000:.1f} sys "
                        f"{(after.ru_stime - usage.ru_stime) / n * 1000:.1f}; context switches "
                        f"per probe: {(after.ru_nvcsw - usage.ru_nvcsw) / n:.1f} voluntary, "
                        f"{(after.ru_nivcsw - usage.ru_nivcsw) / n:.1f} involuntary",
                        flush=True,
                    )
                if profile is not None:
                    profile.dump_stats(args.cprofile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("approach", choices=["engine", "single", "floor", "bare"])
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--cprofile", type=Path, help="profile the rounds (time.process_time) into this file"
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
