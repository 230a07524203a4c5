"""Parsing and recognition off the event loop, in a thread a deadline can walk away from.

:func:`off_loop` runs a function in a daemon thread and awaits its result. The awaiting
task can be cancelled (``probe_timeout``, shutdown) at any moment: the loop goes on at once
and the thread is abandoned, finishing its work on its own and its result dropped.

Why a thread, and not a subprocess that could be killed (issue 25):

* the work is bounded: every pattern on page text is RE2 or bounded (linear), a page
  nested past ``NESTING_LIMIT`` is never parsed, ``sentence_with`` walks the text nodes
  once, element texts are read up to a bound, and a page is at most 8 MiB. Measured
  (``bench/hostile_pages.py``, BENCHMARKS.md §9), the worst page of the hostile corpus
  costs a few seconds of CPU: an abandoned thread's remaining work is that, never minutes;
* the loop really runs meanwhile: lexbor's parse releases the GIL (a Python thread ticking
  every millisecond kept 90 % of its ticks during a 4.5 s parse), and pure-Python work in a
  thread yields the GIL every ``sys.getswitchinterval()`` (5 ms);
* a subprocess per probe costs a fork and the pickling of up to 8 MiB of HTML and of the
  target both ways, for every probe of every target, to guard against a cost that linearity
  already bounds; and a pool of worker processes must be kept, restarted and sized on a
  2-core host shared with Chromium.

Daemon threads of our own rather than ``asyncio.to_thread``: the default executor has
``min(32, cores + 4)`` workers shared with every database call of the daemon, which
abandoned work would starve, and ``asyncio.run`` waits for its threads at exit, which would
hold SIGTERM's 30 s hostage to a page. A daemon thread is never waited for.

The threads are kept for the next call (:class:`_Workers`): a call takes an idle thread, or
starts a new one when none is idle, so an abandoned thread still busy with a page never
delays another call, and there is no limit a burst of hostile pages could exhaust. A thread
done with its call waits ``IDLE_SECONDS`` for the next (at most ``IDLE_KEPT`` wait at once),
then ends. Starting a thread per call cost about 0.15 ms of CPU and a wait for the thread to
start, four times a probe (BENCHMARKS.md §2b).

The thread runs in a copy of the caller's context, so :func:`~monitor.platforms.page.
parsing_scope` (the probe's parsed documents) is shared with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: Most threads kept waiting for work at once (a probe runs one call at a time; the daemon
#: runs a few probes at once); more finish their call and end.
IDLE_KEPT = 8
#: How long a thread with nothing to do waits for the next call before it ends.
IDLE_SECONDS = 30.0

_Job = Callable[[], None]


class _Workers:
    """Daemon threads that take calls one at a time and are kept for the next one.

    ``_idle`` counts the threads committed to take a job from ``_jobs``: a call that finds
    one hands its job over the queue, otherwise it starts a thread for it. Both counts move
    under ``_lock``, so each queued job has a thread waiting for it (idle + queued jobs =
    threads waiting on the queue).
    """

    def __init__(self, *, kept: int = IDLE_KEPT, idle_seconds: float = IDLE_SECONDS) -> None:
        self._kept = kept
        self._idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[tuple[_Job, str]] = queue.SimpleQueue()
        self._idle = 0

    def run(self, job: _Job, name: str) -> None:
        """``job()`` in an idle thread, or in a new one when none is idle."""
        with self._lock:
            if self._idle:
                self._idle -= 1
                self._jobs.put((job, name))
                return
        threading.Thread(target=self._serve, args=(job, name), name=name, daemon=True).start()

    @property
    def idle(self) -> int:
        """Threads waiting for a call now."""
        return self._idle

    def _serve(self, job: _Job, name: str) -> None:
        task: tuple[_Job, str] | None = (job, name)
        del job  # held only in ``task``, dropped once done (it holds a probe's pages)
        while task is not None:
            threading.current_thread().name = task[1]
            task[0]()  # never raises: off_loop's job hands every outcome to the loop
            task = None
            task = self._next()

    def _next(self) -> tuple[_Job, str] | None:
        """The next call for this thread, or None: it ends."""
        with self._lock:
            if self._idle >= self._kept:
                return None
            self._idle += 1
        try:
            return self._jobs.get(timeout=self._idle_seconds)
        except queue.Empty:
            with self._lock:
                try:  # handed a job as the wait ran out: take it
                    return self._jobs.get_nowait()
                except queue.Empty:
                    self._idle -= 1
                    return None


_WORKERS = _Workers()


async def off_loop(work: Callable[[], T], *, name: str = "recognition") -> T:
    """``work()`` in a daemon thread (an idle one, or a new one); cancelling the await
    abandons the thread, which finishes the call on its own."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    context = contextvars.copy_context()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():  # cancelled meanwhile: the result is dropped
            outcome()

    def run() -> None:
        try:
            result = context.run(work)
        except BaseException as exc:  # handed to the awaiting task, whatever it is
            error = exc
            deliver: Callable[[], None] = lambda: future.set_exception(error)  # noqa: E731
        else:
            deliver = lambda: future.set_result(result)  # noqa: E731
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(settle, deliver)

    _WORKERS.run(run, name)
    return await future
