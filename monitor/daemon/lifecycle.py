"""The daemon's process life: signal handlers that only set flags, and bounded waits.

STYLE.md's rule for a daemon: a signal handler does nothing but set a flag (here: call a
method that sets flags and events); the main loop notices at its next turn. Every wait at
shutdown is bounded, so that SIGTERM keeps its 30 s promise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = [
    "close_within",
    "finish",
    "install_signals",
    "remove_signals",
    "wait_for_event",
    "wait_or_hurry",
]

log = logging.getLogger(__name__)

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


async def wait_for_event(event: asyncio.Event, timeout: float) -> None:
    """Sleep until ``event`` is set or ``timeout`` passes; the event is cleared."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=timeout)
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


async def close_within(part: object, timeout: float) -> None:
    """``await part.aclose()`` if it has one, for at most ``timeout`` s; failures logged."""
    close: Callable[[], Awaitable[None]] | None = getattr(part, "aclose", None)
    if close is None:
        return
    try:
        await asyncio.wait_for(close(), timeout=timeout)
    except Exception as error:  # TimeoutError included: best effort at exit
        log.warning("closing %s failed: %r", type(part).__name__, error)
