"""Parsing and recognition off the event loop, in a thread a deadline can walk away from.

:func:`off_loop` runs a function in a new daemon thread and awaits its result. The awaiting
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

A new daemon thread per call rather than ``asyncio.to_thread``: the default executor has
``min(32, cores + 4)`` workers shared with every database call of the daemon, which
abandoned work would starve, and ``asyncio.run`` waits for its threads at exit, which would
hold SIGTERM's 30 s hostage to a page. A daemon thread is never waited for.

The thread runs in a copy of the caller's context, so :func:`~monitor.platforms.page.
parsing_scope` (the probe's parsed documents) is shared with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def off_loop(work: Callable[[], T], *, name: str = "recognition") -> T:
    """``work()`` in a new daemon thread; cancelling the await abandons the thread."""
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

    threading.Thread(target=run, name=name, daemon=True).start()
    return await future
