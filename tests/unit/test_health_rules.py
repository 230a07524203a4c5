"""The monitor's own health, the rules: which failures are the network's, the own-fault guard
on a fake clock, the heartbeat's period and staleness.

The connectivity check against a real site and the health events stored by a real daemon
are in tests/integration/test_health.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.daemon.health import (
    Connectivity,
    OwnFaultGuard,
    check_connectivity,
    heartbeat_is_stale,
    heartbeat_period,
    is_network_failure,
    stale_after,
)
from monitor.details import record_line
from monitor.domain import (
    Detail,
    Engine,
    Finding,
    Observation,
    Reason,
    Status,
)

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def observation(finding: Finding | None = None) -> Observation:
    return Observation(
        target="t/x",
        engine=Engine.HTTP,
        url="http://127.0.0.1/x",
        started_at=T0,
        finished_at=T0 + timedelta(seconds=1),
        failure=finding,
    )


REFUSED = Finding(
    Status.ANOMALY,
    Reason.CONNECTION,
    Detail("connection_refused", {"where": "127.0.0.1:1", "kind": "ConnectError"}),
)

TIMED_OUT = Finding(
    Status.ANOMALY, Reason.TIMEOUT, Detail("no_answer", {"where": "127.0.0.1:1", "seconds": 5})
)

OUR_BUG = Finding(Status.MONITOR_ERROR, Reason.INTERNAL, Detail("fault", {"message": "bug"}))

BAD_GATEWAY = Finding(Status.ANOMALY, Reason.OVERLOADED, Detail("overloaded", {"status": 502}))


@pytest.mark.parametrize(
    ("finding", "network"),
    [
        (REFUSED, True),
        (TIMED_OUT, True),
        (BAD_GATEWAY, False),
        (None, False),
        (
            OUR_BUG,
            False,
        ),
    ],
)
def test_it_calls_only_connection_and_timeout_network_failures(
    finding: Finding | None, network: bool
) -> None:
    assert is_network_failure(observation(finding)) is network


async def test_no_url_means_the_check_is_off() -> None:
    assert (await check_connectivity([], user_agent="t")).online


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Check:
    def __init__(self, online: bool) -> None:
        self.online = online
        self.calls = 0

    async def __call__(self) -> Connectivity:
        self.calls += 1
        return Connectivity(self.online, Detail("connectivity_ok"))


async def test_a_site_failure_is_never_the_monitors_and_needs_no_check() -> None:
    check = Check(online=False)
    guard = OwnFaultGuard(check=check, window=60, clock=Clock())
    assert await guard.judge("a", observation(BAD_GATEWAY)) is None
    assert await guard.judge("b", observation(None)) is None
    assert check.calls == 0


async def test_a_network_failure_is_the_monitors_when_the_connectivity_check_fails() -> None:
    guard = OwnFaultGuard(check=Check(online=False), window=60, clock=Clock())
    verdict = await guard.judge("a", observation(REFUSED))
    assert verdict is not None and "own network" in record_line(verdict)


async def test_a_network_failure_is_the_sites_when_the_check_answers_and_others_work() -> None:
    guard = OwnFaultGuard(check=Check(online=True), window=60, clock=Clock())
    assert await guard.judge("b", observation(None)) is None
    assert await guard.judge("a", observation(REFUSED)) is None


async def test_every_host_failing_at_the_network_level_is_the_monitors_without_any_check() -> None:
    guard = OwnFaultGuard(check=None, window=60, clock=Clock())
    assert await guard.judge("a", observation(REFUSED)) is None  # one host proves nothing
    verdict = await guard.judge("b", observation(TIMED_OUT))
    assert verdict is not None and "every site" in record_line(verdict)
    assert await guard.judge("b", observation(None)) is None  # b answers again


async def test_a_connectivity_check_that_answers_overrules_every_host_failing() -> None:
    guard = OwnFaultGuard(check=Check(online=True), window=60, clock=Clock())
    assert await guard.judge("a", observation(REFUSED)) is None
    assert await guard.judge("b", observation(TIMED_OUT)) is None  # two sites down, not us


async def test_a_host_fails_only_when_every_recent_target_on_it_failed() -> None:
    guard = OwnFaultGuard(check=None, window=60, clock=Clock())
    await guard.judge("a", observation(None), "92/one")
    await guard.judge("a", observation(REFUSED), "92/two")  # one page of a shared host
    assert await guard.judge("b", observation(TIMED_OUT), "75/one") is None  # 92/one answered
    verdict = await guard.judge("a", observation(REFUSED), "92/one")
    assert verdict is not None and "every site" in record_line(verdict)


async def test_only_hosts_probed_within_the_window_count() -> None:
    clock = Clock()
    guard = OwnFaultGuard(check=None, window=60, clock=clock)
    await guard.judge("a", observation(None))
    clock.now += 30
    await guard.judge("b", observation(REFUSED))
    assert await guard.judge("c", observation(REFUSED)) is None  # a answered 30 s ago
    clock.now += 45  # a's answer is now 75 s old: out of the window
    assert await guard.judge("c", observation(REFUSED)) is not None


async def test_it_reuses_a_connectivity_result_for_a_while() -> None:
    clock, check = Clock(), Check(online=True)
    guard = OwnFaultGuard(check=check, window=60, clock=clock, ttl=30)
    for host in "abc":
        await guard.judge(host, observation(REFUSED))
    assert check.calls == 1
    clock.now += 31
    await guard.judge("a", observation(REFUSED))
    assert check.calls == 2


@pytest.mark.parametrize(
    ("smallest", "period", "stale"),
    [
        (timedelta(minutes=10), timedelta(minutes=1), timedelta(minutes=30)),
        (timedelta(seconds=90), timedelta(seconds=45), timedelta(seconds=270)),
        (timedelta(seconds=2), timedelta(seconds=1), timedelta(seconds=6)),
    ],
)
def test_it_beats_at_least_every_half_interval_and_minute_and_is_stale_after_three_intervals(
    smallest: timedelta, period: timedelta, stale: timedelta
) -> None:
    assert heartbeat_period(smallest) == period
    assert stale_after(smallest) == stale


@pytest.mark.parametrize(
    ("age", "is_stale"),
    [
        (None, True),
        (timedelta(0), False),
        (timedelta(minutes=29), False),
        (timedelta(hours=1), True),
    ],
)
def test_a_heartbeat_is_stale_when_missing_or_older_than_three_intervals(
    age: timedelta | None, is_stale: bool
) -> None:
    last = None if age is None else T0 - age
    assert heartbeat_is_stale(last, now=T0, smallest_interval=timedelta(minutes=10)) is is_stale
