"""The politeness gate: per-host slots and gaps, the global cap, pauses, Retry-After.

The gate alone, in this event loop; 50 targets on one host under the real daemon, measured
at the site, are in tests/system/test_politeness.py.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime, timedelta

import pytest

from monitor.daemon.politeness import Politeness, host_of, parse_retry_after
from monitor.daemon.runner import _refusal
from monitor.domain import Engine, Observation, PageSnapshot

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://www.Hauts-de-Seine.gouv.fr/booking/create/1", "www.hauts-de-seine.gouv.fr"),
        ("http://127.0.0.1:8765/x", "127.0.0.1:8765"),
        ("https://user:pw@example.org/", "example.org"),
    ],
)
def test_it_keys_hosts_as_targets_do(url: str, host: str) -> None:
    assert host_of(url) == host


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Mon, 02 Mar 2026 10:02:00 GMT", 120.0),
        ("Mon, 02 Mar 2026 09:00:00 GMT", 0.0),  # in the past
        ("soon", None),
        ("-5", None),
    ],
)
def test_it_reads_retry_after_as_seconds_or_a_date(value: str, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


async def test_it_spaces_request_starts_to_one_host_by_the_gap() -> None:
    gate = Politeness(per_host_concurrency=10, per_host_min_gap=0.05)
    starts: list[float] = []

    async def request() -> None:
        await gate.wait_turn("a.example")
        starts.append(time.monotonic())

    await asyncio.gather(*(request() for _ in range(12)))
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert min(gaps) >= 0.05 - 0.002
    assert gate.requests("a.example") == 12


async def test_it_keeps_hosts_independent() -> None:
    gate = Politeness(per_host_concurrency=1, per_host_min_gap=1.0)
    began = time.monotonic()
    await asyncio.gather(*(gate.wait_turn(f"host-{n}") for n in range(5)))
    assert time.monotonic() - began < 0.5  # no gap between different hosts


async def probe_pattern(gate: Politeness, hosts: list[str], hold: float) -> tuple[int, int]:
    """Run one probe per host entry holding its slot ``hold`` s; peak per host and overall."""
    in_flight: dict[str, int] = {}
    peaks = {"host": 0, "all": 0}

    async def probe(host: str) -> None:
        async with gate.probe(host):
            in_flight[host] = in_flight.get(host, 0) + 1
            peaks["host"] = max(peaks["host"], in_flight[host])
            peaks["all"] = max(peaks["all"], sum(in_flight.values()))
            await asyncio.sleep(hold)
            in_flight[host] -= 1

    await asyncio.gather(*(probe(host) for host in hosts))
    return peaks["host"], peaks["all"]


async def test_it_holds_probes_in_flight_per_host_to_the_concurrency() -> None:
    gate = Politeness(per_host_concurrency=2, per_host_min_gap=0)
    per_host, _ = await probe_pattern(gate, ["a"] * 9, hold=0.02)
    assert per_host == 2
    assert gate.in_flight("a") == 0


async def test_it_caps_probes_in_flight_over_all_hosts() -> None:
    gate = Politeness(per_host_concurrency=5, per_host_min_gap=0, max_probes=3)
    _, overall = await probe_pattern(gate, [f"h{n}" for n in range(12)], hold=0.02)
    assert overall == 3
    assert gate.in_flight() == 0


async def test_it_hands_host_slots_over_in_arrival_order() -> None:
    gate = Politeness(per_host_concurrency=1, per_host_min_gap=0)
    order: list[int] = []

    async def probe(n: int) -> None:
        async with gate.probe("a"):
            order.append(n)
            await asyncio.sleep(0.005)

    tasks = []
    for n in range(8):
        tasks.append(asyncio.create_task(probe(n)))
        await asyncio.sleep(0)  # arrive one after the other
    await asyncio.gather(*tasks)
    assert order == list(range(8))


async def test_it_gives_back_nothing_it_did_not_get_when_a_waiting_probe_is_cancelled() -> None:
    gate = Politeness(per_host_concurrency=1, per_host_min_gap=0)
    release = asyncio.Event()

    async def holder() -> None:
        async with gate.probe("a"):
            await release.wait()

    async def waiter() -> None:
        async with gate.probe("a"):
            pass

    holding = asyncio.create_task(holder())
    await asyncio.sleep(0.01)
    waiting = asyncio.create_task(waiter())
    await asyncio.sleep(0.01)
    waiting.cancel()
    release.set()
    await holding
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert gate.in_flight("a") == 0 and gate.in_flight() == 0
    async with gate.probe("a"):  # the slot is free again
        assert gate.in_flight("a") == 1


async def test_a_waiting_probe_cancelled_as_a_slot_comes_back_leaves_cleanly() -> None:
    """The stop cancels waiting probes while others leave: the waiter's cancellation and
    the slot's release can land in one step of the loop (the soak's 51 crashes)."""
    gate = Politeness(per_host_concurrency=1, per_host_min_gap=0)

    async def waiter() -> None:
        async with gate.probe("a"):
            pass

    async with gate.probe("a"):
        waiting = asyncio.create_task(waiter())
        await asyncio.sleep(0.01)
        waiting.cancel()  # the waiter is told, but has not run yet when the slot comes back
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert gate.in_flight("a") == 0 and gate.in_flight() == 0


async def test_a_probe_of_a_paused_host_does_not_hold_a_global_slot_while_it_waits() -> None:
    gate = Politeness(per_host_concurrency=1, per_host_min_gap=0, max_probes=1)
    gate.pause("slow", 0.3)
    order: list[str] = []

    async def probe(host: str) -> None:
        async with gate.probe(host):
            order.append(host)

    paused = asyncio.create_task(probe("slow"))
    await asyncio.sleep(0.01)
    await asyncio.wait_for(probe("free"), 0.2)  # not stuck behind the paused host's probe
    assert order == ["free"]
    await paused
    assert order == ["free", "slow"]


async def test_it_lets_waiters_in_when_the_limit_is_raised() -> None:
    gate = Politeness(per_host_concurrency=1, per_host_min_gap=0)
    release = asyncio.Event()
    entered = asyncio.Event()

    async def holder() -> None:
        async with gate.probe("a"):
            await release.wait()

    async def second() -> None:
        async with gate.probe("a"):
            entered.set()

    holding = asyncio.create_task(holder())
    await asyncio.sleep(0.01)
    seconding = asyncio.create_task(second())
    await asyncio.sleep(0.01)
    assert not entered.is_set()
    gate.configure(per_host_concurrency=2, per_host_min_gap=0)
    await asyncio.wait_for(entered.wait(), 1)
    release.set()
    await asyncio.gather(holding, seconding)


async def test_it_holds_requests_to_a_paused_host_until_the_pause_ends() -> None:
    gate = Politeness(per_host_concurrency=1, per_host_min_gap=0)
    gate.pause("a", 0.2)
    assert 0.1 < gate.paused_for("a") <= 0.2
    assert gate.paused_for("b") == 0
    waited = await gate.wait_turn("a")
    assert waited >= 0.19
    assert gate.paused_for("a") == 0


async def test_the_gate_of_a_probe_counts_its_requests_and_its_waits() -> None:
    gate = Politeness(per_host_concurrency=1, per_host_min_gap=0.03)
    async with gate.probe("a.example") as ticket:
        for _ in range(3):
            await ticket.gate("https://a.example/page")
    assert ticket.requests == 3
    assert ticket.waited >= 0.05


def page(status: int, retry_after: str | None = None) -> PageSnapshot:
    return PageSnapshot("http://h/x", "http://h/x", status, "", retry_after=retry_after)


@pytest.mark.parametrize(
    ("pages", "expected"),
    [
        ((page(200),), None),
        ((page(200), page(429, "120")), (429, timedelta(seconds=120))),
        ((page(503, "soon"),), (503, None)),  # unreadable: the default pause applies
        ((PageSnapshot("http://h/x", "http://h/x", 429, ""),), (429, None)),
    ],
)
def test_it_reads_the_pause_a_429_or_503_asks_for(
    pages: tuple[PageSnapshot, ...], expected: tuple[int, timedelta | None] | None
) -> None:
    observation = Observation(
        target="t/x",
        engine=Engine.HTTP,
        url="http://h/x",
        started_at=NOW,
        finished_at=NOW,
        pages=pages,
    )
    refused = _refusal(observation)
    assert (None if refused is None else (refused.status, refused.pause)) == expected
