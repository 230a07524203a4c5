"""What ``status --heartbeat`` says and the refusal beside a live daemon (issue 31, items
2 and 3): the health rule over the latest probes as a table, the lines with their zones,
the refusal's words. Pure: no database, no file, no socket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.daemon.lifecycle import live_daemon_refusal
from monitor.reports.probe_health import UNHEALTHY_AFTER, ProbeMark, unhealthy_because
from monitor.reports.status import heartbeat_lines, node_lines
from monitor.store.coordination import NodeBeat

CRASH = ProbeMark("browser", "monitor_error", "browser_crash")
DOWN = ProbeMark("http", "monitor_error", "network_down")
INTERNAL = ProbeMark("http", "monitor_error", "internal")
SITE = ProbeMark("http", "unavailable", "no_slot")
BROWSER_SITE = ProbeMark("browser", "unavailable", "no_slot")
N = UNHEALTHY_AFTER
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 6, 23, 40, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("latest", "browser", "why"),
    [
        ([], [], None),
        ([SITE] * N, [], None),
        # Fewer than N own faults: a blip, not yet a verdict.
        ([DOWN] * (N - 1), [], None),
        # One site answer among them: the daemon works.
        ([DOWN] * (N - 1) + [SITE], [], None),
        ([CRASH] * N, [CRASH] * N, "the last 5 probes were monitor_error/browser_crash"),
        (
            [DOWN, DOWN, DOWN, INTERNAL, CRASH],
            [CRASH],
            "the last 5 probes were monitor_error (3 network_down, 1 internal, 1 browser_crash)",
        ),
        # The HTTP probes work, the browser never starts.
        (
            [SITE, CRASH, SITE, CRASH, SITE],
            [CRASH] * N,
            "the last 5 browser probes were monitor_error/browser_crash "
            "(the browser cannot launch, or dies on every page)",
        ),
        ([SITE] * N, [CRASH] * (N - 1), None),
        ([SITE] * N, [CRASH] * (N - 1) + [BROWSER_SITE], None),
    ],
)
def test_it_calls_a_daemon_unhealthy_only_when_its_last_probes_were_all_its_own_fault(
    latest: list[ProbeMark], browser: list[ProbeMark], why: str | None
) -> None:
    assert UNHEALTHY_AFTER == 5  # the table's counts
    assert unhealthy_because(latest, browser) == why


def node(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "node": "box-1",
        "last_beat": NOW - timedelta(seconds=5),
        "stale": False,
        "age": timedelta(seconds=5),
        "degraded": False,
        "degraded_since": None,
        "health_key": None,
        "pid": 42,
        "version": "0.1.0",
        "started_at": datetime(2026, 12, 6, 22, 0, tzinfo=UTC),
    }
    return {**row, **changes}


def test_every_time_in_the_heartbeat_lines_is_local_with_its_offset() -> None:
    since = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)
    lines = heartbeat_lines(
        NOW - timedelta(seconds=5),
        [node(degraded=True, degraded_since=since)],
        stale=[],
        limit=timedelta(minutes=3),
        now=NOW,
        tz=PARIS,
    )
    assert lines == [
        "heartbeat ok: last beat 5s ago at 2026-12-07 00:40:00+01:00 (stale after 3m)",
        "  node box-1: ok, last beat 5s ago (pid 42, version 0.1.0, up since "
        "2026-12-06 23:00:00+01:00), degraded since 2026-12-07 00:00:00+01:00",
    ]
    table = node_lines({}, [node(degraded=True, degraded_since=since)], tz=PARIS)
    assert table == ["node box-1: last beat 5s ago (ok), degraded since 2026-12-07 00:00:00+01:00"]


def test_the_heartbeat_line_names_why_a_beating_daemon_is_unhealthy() -> None:
    why = "the last 5 probes were monitor_error/browser_crash"
    first, _ = heartbeat_lines(
        NOW, [node()], stale=[], limit=timedelta(minutes=3), now=NOW, tz=UTC, unhealthy=why
    )
    assert first == (
        "heartbeat ok but unhealthy: the last 5 probes were monitor_error/browser_crash; "
        "last beat 0s ago at 2026-12-06 23:40:05+00:00 (stale after 3m)"
    )


def test_a_stale_heartbeat_is_stale_whatever_the_probes_said() -> None:
    first, _ = heartbeat_lines(
        NOW - timedelta(minutes=5),
        [node(stale=True)],
        stale=["box-1"],
        limit=timedelta(minutes=3),
        now=NOW,
        tz=UTC,
        unhealthy="ignored",
    )
    assert first.startswith("heartbeat stale: last beat 5m ago at ")


def test_no_heartbeat_reads_as_no_daemon_running() -> None:
    lines = heartbeat_lines(None, [], stale=[], limit=timedelta(minutes=3), now=NOW, tz=UTC)
    assert lines == ["heartbeat missing: no daemon is running on this database"]


@pytest.mark.parametrize(
    ("age", "gone_after", "said"),
    [
        (20, 180, "last heartbeat 20s ago; a daemon that died is considered gone after 3m "
         "(3× the smallest interval): wait 2m40s or"),
        (0, 3 * 3600 + 300, "last heartbeat 0s ago; a daemon that died is considered gone "
         "after 3h5m (3× the smallest interval): wait 3h5m or"),
        # Fresh to the second it was read: never "wait 0s".
        (180, 180, "wait 1s or"),
    ],
)  # fmt: skip
def test_the_refusal_says_how_long_a_dead_daemon_blocks_and_what_to_do(
    age: int, gone_after: int, said: str
) -> None:
    beat = NodeBeat("container-1", NOW - timedelta(seconds=age), 7, "0.1.0", NOW)
    words = live_daemon_refusal(beat, now=NOW, gone_after=timedelta(seconds=gone_after))
    assert words.startswith("another daemon is running on this database (node container-1, pid 7, ")
    assert said in words
    assert "if you are sure it is gone, start this one with MONITOR_NODE=container-1)" in words
    assert words.endswith("must all run in cluster mode (settings.cluster: true or "
                          "`monitor run --cluster`, on PostgreSQL)")  # fmt: skip
