"""The daemon's process life: its loop and threads, signal handlers that only set flags,
bounded waits, and the refusal to run beside another embedded daemon.

STYLE.md's rule for a daemon: a signal handler does nothing but set a flag (here: call a
method that sets flags and events); the main loop notices at its next turn. Every wait at
shutdown is bounded, and :func:`run_until_stopped` leaves with ``os._exit`` when a worker
thread would hold the exit, so that SIGTERM keeps its 30 s promise.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.config import Config
from monitor.daemon.heartbeat import smallest_interval, stale_after
from monitor.daemon.housekeeping import live_nodes
from monitor.errors import UsageError
from monitor.store import Repository
from monitor.store.coordination import NodeBeat

__all__ = [
    "IO_THREADS",
    "THREAD_EXIT_WAIT",
    "close_within",
    "end_within",
    "finish",
    "install_signals",
    "live_daemon_refusal",
    "refuse_beside_live_daemons",
    "remove_signals",
    "run_until_stopped",
    "wait_for_event",
    "wait_or_hurry",
]

log = logging.getLogger(__name__)

#: Worker threads for database calls and recordings (SQLite serialises writes anyway).
IO_THREADS = 16
#: After the daemon returned, how long threads still running may hold the exit.
THREAD_EXIT_WAIT = 3.0

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def install_signals(
    loop: asyncio.AbstractEventLoop, *, stop: Callable[[], None], reload: Callable[[], None]
) -> None:
    """SIGTERM/SIGINT call ``stop``, SIGHUP calls ``reload``; both must only set flags."""
    for sig in _STOP_SIGNALS:
        loop.add_signal_handler(sig, stop)
    loop.add_signal_handler(signal.SIGHUP, reload)


def remove_signals(loop: asyncio.AbstractEventLoop) -> None:
    for sig in (*_STOP_SIGNALS, signal.SIGHUP):
        loop.remove_signal_handler(sig)


async def wait_for_event(
    event: asyncio.Event,
    timeout: float,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Sleep (``sleep``: a clock's) until ``event`` is set or ``timeout`` passes; the event
    is cleared."""
    waiting = asyncio.ensure_future(event.wait())
    sleeping = asyncio.ensure_future(sleep(timeout))
    try:
        await asyncio.wait({waiting, sleeping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiting.cancel()
        sleeping.cancel()
    event.clear()


async def wait_or_hurry(
    tasks: set[asyncio.Task[Any]], timeout: float, hurry: Callable[[], bool]
) -> None:
    """Wait for tasks up to ``timeout``, returning early if a second signal asks to hurry."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    pending = {task for task in tasks if not task.done()}
    while pending and not hurry():
        remaining = deadline - loop.time()
        if remaining <= 0:
            return
        _, pending = await asyncio.wait(pending, timeout=min(0.5, remaining))


async def finish(task: asyncio.Task[None]) -> None:
    """Cancel a helper task and wait for it; its failure is logged, not raised."""
    if not task.done():
        task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    except Exception:
        log.error("%s failed", task.get_name(), exc_info=True)


async def end_within(task: asyncio.Task[None], timeout: float) -> None:
    """Wait up to ``timeout`` for a task asked to end, then cancel it; its failure is logged.

    A task still running a second after the cancel (a database call in a worker thread,
    which a cancel cannot stop) is left to end on its own; its failure is logged when it
    does, never dropped as an exception nobody retrieved.
    """
    await asyncio.wait({task}, timeout=timeout)
    if not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=1)
    if task.done():
        await finish(task)
    else:
        log.warning("%s did not end within %.0f s of being asked to", task.get_name(), timeout + 1)
        task.add_done_callback(_log_late_end)


def _log_late_end(task: asyncio.Task[None]) -> None:
    """The end of a task ``end_within`` left running: its failure, if any, logged."""
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("%s failed after the stop", task.get_name(), exc_info=error)


async def close_within(part: object, timeout: float) -> None:
    """``await part.aclose()`` if it has one, for at most ``timeout`` s; failures logged."""
    close: Callable[[], Awaitable[None]] | None = getattr(part, "aclose", None)
    if close is None:
        return
    try:
        await asyncio.wait_for(close(), timeout=timeout)
    except Exception as error:  # TimeoutError included: best effort at exit
        log.warning("closing %s failed: %r", type(part).__name__, error)


def refuse_beside_live_daemons(repository: Repository, config: Config, node: str) -> None:
    """Embedded mode schedules alone: another live daemon on the database means a fleet.

    A daemon stopped cleanly removed its heartbeat row; one killed left it, and counts as
    live until its heartbeat is stale (3× the smallest interval), since from another host
    (another container) nothing else tells a dead daemon from a live one.
    """
    now = datetime.now(UTC)
    gone_after = stale_after(smallest_interval(config))
    others = live_nodes(
        repository.nodes(), me=node, host=socket.gethostname(), now=now, fresh_within=gone_after
    )
    if others:
        raise UsageError(live_daemon_refusal(others[0], now=now, gone_after=gone_after))


def live_daemon_refusal(beat: NodeBeat, *, now: datetime, gone_after: timedelta) -> str:
    """The refusal's words: which daemon, how long until a dead one counts as gone, and
    what to do."""
    age = max(round((now - beat.beat_at).total_seconds()), 0)
    gone = round(gone_after.total_seconds())
    return (
        f"another daemon is running on this database (node {beat.node}, pid {beat.pid}, "
        f"last heartbeat {_spelled(age)} ago; a daemon that died is considered gone "
        f"after {_spelled(gone)} (3× the smallest interval): wait "
        f"{_spelled(max(gone - age, 1))} or, if you are sure it is gone, start this one with "
        f"MONITOR_NODE={beat.node}). Several daemons on one database must all run in "
        "cluster mode (settings.cluster: true or `monitor run --cluster`, on PostgreSQL)"
    )


def _spelled(seconds: int) -> str:
    """Whole seconds as people read them: ``20s``, ``3m``, ``2m40s``, ``1h5m``."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if n]
    return "".join(parts) or "0s"


def run_until_stopped(main: Coroutine[Any, Any, int]) -> int:
    """Run the daemon's coroutine on a fresh loop, then make sure the process can exit.

    Like ``asyncio.run``, but a worker thread stuck in a call that cannot be interrupted
    (a database lock, a notification service that hangs) cannot hold the exit past the
    30 s promise: after ``THREAD_EXIT_WAIT`` the process leaves with ``os._exit``. Every
    row is written in one transaction, so an interrupted one is simply not there.
    """
    loop = asyncio.new_event_loop()
    executor = ThreadPoolExecutor(max_workers=IO_THREADS, thread_name_prefix="monitor-io")
    loop.set_default_executor(executor)
    code = 1
    try:
        code = loop.run_until_complete(main)
    finally:
        try:
            _cancel_leftovers(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            executor.shutdown(wait=False, cancel_futures=True)
            loop.close()
    _exit_if_threads_hang(code)
    return code


def _cancel_leftovers(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


def _exit_if_threads_hang(code: int) -> None:
    deadline = time.monotonic() + THREAD_EXIT_WAIT
    for thread in threading.enumerate():
        if thread is threading.current_thread() or thread.daemon:
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [t.name for t in threading.enumerate() if t.is_alive() and not t.daemon]
    stuck = [name for name in stuck if name != threading.current_thread().name]
    if stuck:
        log.warning("exiting with threads still busy: %s", ", ".join(stuck))
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
