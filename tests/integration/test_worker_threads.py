"""off_loop's threads are kept for the next call, and an abandoned one never delays another;
a page read again in the same probe is looked up, not handed to a thread again.

A thread per call cost about 0.15 ms of CPU four times a probe (BENCHMARKS.md §2b); the
threads are now reused, without giving up what issue 25 asked of them: a call whose await
is cancelled leaves its thread working on its own, and the next call runs in another one.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import TypeVar

import pytest

from monitor.domain import PageSnapshot
from monitor.platforms import page as page_module
from monitor.platforms.page import parsing_scope
from monitor.platforms.worker import _Workers, off_loop

T = TypeVar("T")

probe: ContextVar[str] = ContextVar("probe")


async def test_the_call_runs_off_the_loop_in_the_callers_context() -> None:
    probe.set("t1")
    assert await off_loop(threading.get_ident) != threading.get_ident()
    assert await off_loop(probe.get) == "t1"
    probe.set("t2")  # a reused thread sees the context of each call, not of its first
    assert await off_loop(probe.get) == "t2"


async def test_an_abandoned_call_keeps_its_thread_and_the_next_call_runs_in_another() -> None:
    release = threading.Event()
    started = threading.Event()

    def stuck() -> int:
        started.set()
        release.wait()
        return threading.get_ident()

    abandoned = asyncio.ensure_future(off_loop(stuck))
    await asyncio.to_thread(started.wait)
    abandoned.cancel()  # the probe's deadline: the loop walks away from the thread
    try:
        # Runs and answers while the abandoned call still holds its thread.
        other = await off_loop(threading.get_ident)
        assert not release.is_set()
    finally:
        release.set()
    assert abandoned.cancelled()
    assert other != threading.get_ident()


async def test_an_exception_reaches_the_caller_and_the_thread_serves_again() -> None:
    def broken() -> None:
        raise ValueError("a page we cannot read")

    try:
        await off_loop(broken)
    except ValueError as error:
        assert str(error) == "a page we cannot read"
    else:
        raise AssertionError("the exception was lost")
    assert await off_loop(lambda: 6 * 7) == 42


def test_at_most_kept_threads_wait_and_an_idle_one_ends_after_its_wait() -> None:
    workers = _Workers(kept=1, idle_seconds=0.05)
    release = threading.Event()
    threads: list[threading.Thread] = []
    both = threading.Barrier(3)

    def job() -> None:
        threads.append(threading.current_thread())
        both.wait()
        release.wait()

    workers.run(job, "one")
    workers.run(job, "two")  # the first is busy: a second thread
    both.wait()
    assert len({thread.ident for thread in threads}) == 2
    release.set()
    for thread in threads:  # one ends at once (one is kept), the other after its idle wait
        thread.join()
    assert workers.idle == 0


def test_a_call_handed_over_runs_in_the_waiting_thread() -> None:
    workers = _Workers(kept=2, idle_seconds=60)
    done: list[int] = []
    first = threading.Event()
    second = threading.Event()

    workers.run(lambda: (done.append(threading.get_ident()), first.set()), "one")
    first.wait()
    while workers.idle == 0:  # the thread is on its way back to wait for the next call
        threading.Event().wait(0.001)
    workers.run(lambda: (done.append(threading.get_ident()), second.set()), "two")
    second.wait()
    assert done[0] == done[1]
    assert workers.idle == 1


async def test_a_page_read_again_in_the_same_probe_is_not_handed_to_a_thread_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handed: list[str] = []

    async def counted(work: Callable[[], T], *, name: str = "recognition") -> T:
        handed.append(name)
        return await off_loop(work, name=name)

    monkeypatch.setattr(page_module, "off_loop", counted)
    html = "<html><body><h1>Conditions</h1><p>Aucune plage horaire libre</p></body></html>"
    first = PageSnapshot(
        url="https://a.test/1", final_url="https://a.test/1", http_status=200, html=html
    )
    again = PageSnapshot(
        url="https://a.test/2",
        final_url="https://a.test/2",
        http_status=200,
        html=html[:9] + html[9:],
    )
    other = PageSnapshot(
        url="https://a.test/3", final_url="https://a.test/3", http_status=200, html=html + " "
    )
    with parsing_scope():
        read_first = await page_module.read(first)
        read_again = await page_module.read(again)
        assert handed == ["parse"]  # the second is the first's document, looked up
        assert read_again.tree is read_first.tree
        assert read_again.url == "https://a.test/2"  # its own snapshot
        assert read_again.contains("aucune plage horaire libre")
        await page_module.read(other)  # another text: parsed in a thread
        assert handed == ["parse", "parse"]
    await page_module.read(first)  # outside a probe's scope: nothing is shared
    assert handed == ["parse", "parse", "parse"]
