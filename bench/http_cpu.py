"""Where the http engine's CPU goes: one approach of ``bench/probes.py`` alone, per thread.

    PYTHONPATH=$PWD .venv/bin/python bench/http_cpu.py engine [--targets 200] [--rounds 3]
    PYTHONPATH=$PWD .venv/bin/python bench/http_cpu.py floor
    PYTHONPATH=$PWD .venv/bin/python bench/http_cpu.py single --cprofile /tmp/single.pstats
    PYTHONPATH=$PWD .venv/bin/python bench/http_cpu.py single --ablate all --rounds 7
    PYTHONPATH=$PWD:$PWD/bench valgrind --tool=callgrind --callgrind-out-file=/tmp/cg/cg.%p \
        .venv/bin/python bench/http_cpu.py single --ablate all --rounds 2 --targets 40 \
        --instructions /tmp/cg                # bench/results/http-ablation.md

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

``--ablate PART [PART ...]`` (or ``all``): measurement by ablation instead of by profiler
(a profiler inflates call-heavy code, httpx most). One daemon is built; each round runs the
engine as it is ("none") and then with each PART switched off alone (:data:`ABLATIONS`), in
an order that rotates every round, and prints this process's CPU (user + system, every
thread; the imitation is another process) per probe; the table at the end gives each
variant's median and what switching the part off saved against the median of "none".
**Every switch is UNSAFE for the daemon** (each docstring says what it breaks): bench
knobs, never settings.
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
from probes import _patched
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


# --- ablation: one part of the engine switched off at a time (UNSAFE, bench only) --------


@contextlib.contextmanager
def no_claim() -> Iterator[None]:
    """UNSAFE: ``claim_probe`` answers True without a write: two nodes could probe one slot."""
    from monitor.store import Repository

    with _patched(Repository, claim_probe=lambda self, target, slot, node: True):
        yield


@contextlib.contextmanager
def no_record_transaction() -> Iterator[None]:
    """UNSAFE: ``record_probe`` writes nothing (no row, chain, rollup, state, events): the
    target's state is taken as new each time and the outcome is lost."""
    import dataclasses

    from monitor.domain import TargetState
    from monitor.store import Recorded, Repository

    def record_probe(self: Any, outcome: Any, advance: Any, channels_for: Any, **_: Any) -> Any:
        before = TargetState(outcome.target)
        after, events = advance(before)
        return Recorded(dataclasses.replace(outcome, id=0, chain=""), before, after, list(events))

    with _patched(Repository, record_probe=record_probe):
        yield


@contextlib.contextmanager
def no_evidence() -> Iterator[None]:
    """UNSAFE: no evidence file written, hashed or fsynced: the outcome has none."""
    from monitor.attempt import record
    from monitor.store.evidence import EvidenceRecord, evidence_digest

    empty = EvidenceRecord(paths=(), sha256=evidence_digest(()))
    with _patched(record, keep_evidence=lambda settings, pages: empty):
        yield


@contextlib.contextmanager
def no_recognition() -> Iterator[None]:
    """UNSAFE: ``recognise_all`` answers what it answered for the target's first probe (the
    pages are not read: a slot opening would be missed)."""
    from monitor.attempt import probe

    real = probe.recognise_all
    known: dict[str, Any] = {}

    def remembered(target: Any, pages: Any) -> Any:
        if target.id not in known:
            known[target.id] = real(target, pages)
        return known[target.id]

    with _patched(probe, recognise_all=remembered):
        yield


@contextlib.contextmanager
def no_page_reads() -> Iterator[None]:
    """UNSAFE: every HTML text parsed once for the whole run (nesting measured, tree built,
    visible text read), not once per probe: a parsed tree shared across probes and never
    let go. What ``read()`` and recognition's parses cost."""
    from monitor.platforms import page

    documents: dict[str, Any] = {}
    real = page._Document

    def document(html: str) -> Any:
        found = documents.get(html)
        if found is None:
            found = documents[html] = real(html)
        return found

    with _patched(page, _document=document):
        yield


@contextlib.contextmanager
def no_nesting_guard() -> Iterator[None]:
    """UNSAFE: the nesting pass skipped (a deeply nested page would be parsed: quadratic)."""
    from monitor.platforms import page

    with _patched(page, too_deep=lambda html: False):
        yield


@contextlib.contextmanager
def no_gate() -> Iterator[None]:
    """UNSAFE: no politeness gate per request and no ``_GateClock`` (the probe's slot is
    still taken): requests to a host are not spaced."""
    from monitor.attempt import probe
    from monitor.daemon.politeness import Politeness

    class Clockless:
        held = 0.0

        def __init__(self, gate: Any) -> None:
            pass

        async def __call__(self, url: str) -> None:
            return None

        @contextlib.contextmanager
        def governing(self, deadline: Any) -> Iterator[None]:
            yield

    async def through(url: str) -> None:
        return None

    with (
        _patched(probe, _GateClock=Clockless),
        _patched(Politeness, _gate_for=lambda self, ticket: through),
    ):
        yield


@contextlib.contextmanager
def no_destination_checks() -> Iterator[None]:
    """UNSAFE: no destination rule checked (a page could send a probe anywhere)."""
    from monitor.probes import http

    with _patched(
        http, _refused=lambda *a: None, refusal=lambda *a: None, redirect_refusal=lambda *a: None
    ):
        yield


@contextlib.contextmanager
def no_client_per_probe() -> Iterator[None]:
    """UNSAFE as written: one ``AsyncClient`` per engine for every probe at once (cookies
    shared between concurrent probes; the imitation's flows do not depend on them)."""
    from monitor.probes import http

    real = http.HttpEngine.session
    clients: dict[int, Any] = {}

    @contextlib.asynccontextmanager
    async def session(self: Any, *, gate: Any = None) -> Any:
        client = clients.get(id(self))
        if client is None:
            async with real(self) as first:  # its client, kept open past the block
                client = clients[id(self)] = first._client
                client.aclose = _noop_close
        yield http.HttpSession(client, gate=gate, timeout=self.timeout)

    with _patched(http.HttpEngine, session=session):
        yield


async def _noop_close() -> None:
    return None


@contextlib.contextmanager
def no_decode_body() -> Iterator[None]:
    """UNSAFE: the body read as UTF-8 whatever its declared charset."""
    from monitor.probes import http

    with _patched(http, decode_body=lambda body, content_type: body.decode("utf-8", "replace")):
        yield


@contextlib.contextmanager
def no_tail() -> Iterator[None]:
    """UNSAFE: after recording, no health report, back-off, metrics or own-fault judgement."""
    from monitor.daemon import runner
    from monitor.daemon.health import OwnFaultGuard

    async def after(self: Any, target: Any, recorded: Any, *_: Any) -> Any:
        return runner.RunResult(recorded.outcome, None)

    async def judge(self: Any, *_: Any) -> None:
        return None

    with (
        _patched(runner.ProbeRunner, _after=after),
        _patched(runner.metrics, probe_recorded=lambda outcome: None),
        _patched(OwnFaultGuard, judge=judge),
    ):
        yield


@contextlib.contextmanager
def no_logging() -> Iterator[None]:
    """UNSAFE: every logger call a no-op (nothing logged at any level)."""

    def quiet(self: Any, *args: Any, **kwargs: Any) -> None:
        return None

    with _patched(logging.Logger, debug=quiet, info=quiet, warning=quiet, error=quiet):
        yield


@contextlib.contextmanager
def no_forms_parse() -> Iterator[None]:
    """UNSAFE: the forms' parse of a page (``ParsedPage``) remembered across probes and
    never let go: what parsing a page a second time for its forms costs."""
    from monitor.probes import http

    real = http.ParsedPage
    known: dict[tuple[str, str], Any] = {}

    def parsed(html: str, url: str) -> Any:
        found = known.get((html, url))
        if found is None:
            found = known[(html, url)] = real(html, url)
        return found

    with _patched(http, ParsedPage=parsed):
        yield


@contextlib.contextmanager
def no_url_joins() -> Iterator[None]:
    """UNSAFE: ``_absolute``'s joins remembered for ever (unbounded)."""
    from monitor.probes import http

    real = http.HttpSession._absolute
    known: dict[tuple[str | None, str], str] = {}

    def absolute(self: Any, url: str) -> str:
        key = (None if self._page is None else self._page.final_url, url)
        found = known.get(key)
        if found is None:
            found = known[key] = real(self, url)
        return found

    with _patched(http.HttpSession, _absolute=absolute):
        yield


@contextlib.contextmanager
def no_streamed_read() -> Iterator[None]:
    """UNSAFE: each body read whole (``send`` without ``stream``), no size cap, no per-request
    deadline: what the capped streaming read and its ``asyncio.timeout`` cost."""
    from monitor.probes import http

    async def exchange(self: Any, request: Any) -> Any:
        response = await self._client.send(request, follow_redirects=False)
        return response, response.content

    with _patched(http.HttpSession, _exchange=exchange):
        yield


@contextlib.contextmanager
def no_redirect_hook() -> Iterator[None]:
    """UNSAFE: no response hook checking a redirect's ``Location``."""
    from monitor.probes import http

    async def nothing(response: Any) -> None:
        return None

    with _patched(http, _check_redirect=nothing):
        yield


@contextlib.contextmanager
def everything_off() -> Iterator[None]:
    """Every switch above at once: what is left is httpx, the flow and the scheduler."""
    with contextlib.ExitStack() as stack:
        for name, switch in ABLATIONS.items():
            if name != "all":
                stack.enter_context(switch())
        yield


#: The parts of the engine, each switched off alone by ``--ablate`` (all UNSAFE).
ABLATIONS: dict[str, Callable[[], contextlib.AbstractContextManager[None]]] = {
    "claim": no_claim,
    "record transaction": no_record_transaction,
    "evidence write": no_evidence,
    "recognition": no_recognition,
    "page reads": no_page_reads,
    "nesting guard": no_nesting_guard,
    "gate + _GateClock": no_gate,
    "destination checks": no_destination_checks,
    "client per probe": no_client_per_probe,
    "decode_body": no_decode_body,
    "health/back-off tail": no_tail,
    "logging": no_logging,
    "forms parse": no_forms_parse,
    "URL joins": no_url_joins,
    "streamed, capped read": no_streamed_read,
    "redirect hook": no_redirect_hook,
    "all": everything_off,
}


class _Callgrind:
    """Instructions this process executed, read from Valgrind's callgrind (``--instructions``):
    unlike CPU time, a count the other jobs on the machine do not change."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def _control(self, option: str) -> None:
        import subprocess

        subprocess.run(
            ["callgrind_control", option, str(os.getpid())],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start(self) -> None:
        self._control("-z")

    def read(self) -> float:
        """Millions of instructions since :meth:`start`."""
        self._control("-d")
        dumps = self._directory.glob(f"cg.{os.getpid()}.*")
        latest = max(dumps, key=lambda path: int(path.suffix[1:]))
        for line in latest.read_text().splitlines():
            if line.startswith("summary:"):
                return int(line.split()[1]) / 1e6
        raise RuntimeError(f"no summary line in {latest}")


async def ablate(
    one_round: Callable[[], Any],
    parts: list[str],
    rounds: int,
    n: int,
    instructions: Path | None = None,
) -> None:
    """Interleaved rounds of the engine as it is and with each of ``parts`` switched off."""
    import statistics

    callgrind = _Callgrind(instructions) if instructions is not None else None
    unit = "M instructions/probe" if callgrind is not None else "ms CPU/probe"
    variants = ["none", *parts]
    cpu: dict[str, list[float]] = {v: [] for v in variants}
    for number in range(rounds):
        shift = number % len(variants)
        for variant in variants[shift:] + variants[:shift]:
            switches = {**ABLATIONS, **probes.HTTP_SWITCHES}  # "before: …" puts a cost back
            switch = switches[variant]() if variant != "none" else contextlib.nullcontext()
            with switch:
                if callgrind is not None:
                    callgrind.start()
                before = resource.getrusage(resource.RUSAGE_SELF)
                await one_round()
                after = resource.getrusage(resource.RUSAGE_SELF)
                counted = callgrind.read() if callgrind is not None else 0.0
            used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            cpu[variant].append((counted if callgrind is not None else used * 1000) / n)
            print(f"round {number + 1} off: {variant}: {cpu[variant][-1]:.3f} {unit}", flush=True)
    base = statistics.median(cpu["none"])
    print(f"\n{n} targets, {rounds} interleaved rounds (+1 warm-up, engine as it is)\n")
    print(
        f"| switched off (UNSAFE) | {unit}, median (min-max) | saved: vs the median of "
        "none | saved: median of each round's none minus it |"
    )
    print("| --- | ---: | ---: | ---: |")
    for variant in variants:
        values = cpu[variant]
        median = statistics.median(values)
        paired = statistics.median(a - b for a, b in zip(cpu["none"], values, strict=True))
        print(
            f"| {variant} | {median:.2f} ({min(values):.2f}-{max(values):.2f}) | "
            f"{base - median:+.2f} | {paired:+.2f} |"
        )
    print(f"\nload average at the end: {os.getloadavg()}")
    print(f"engine outcomes other than unavailable: {probes.UNEXPECTED or 'none'}")


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
                if args.ablate:
                    # "none" alone: the approach as it is (the floors, to compare counts with)
                    parts = list(ABLATIONS) if args.ablate == ["all"] else args.ablate
                    parts = [part for part in parts if part != "none"]
                    await ablate(one_round, parts, args.rounds, n, args.instructions)
                    return
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
    parser.add_argument(
        "--ablate",
        nargs="+",
        choices=["none", *ABLATIONS, *probes.HTTP_SWITCHES],
        metavar="PART",
        help="UNSAFE switches: interleaved rounds with each PART switched off ('all': every "
        "part one at a time, then all at once): "
        + "; ".join(f"'{p}'" for p in ABLATIONS)
        + "; or bench/probes.py's HTTP_SWITCHES (a cost this round removed, put back)",
    )
    parser.add_argument(
        "--instructions",
        type=Path,
        metavar="DIR",
        help="with --ablate, under valgrind --tool=callgrind --callgrind-out-file=DIR/cg.%%p "
        ": count instructions, not CPU time",
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
