"""Prometheus metrics: what the daemon and the dispatcher count, and the opt-in endpoint."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import httpx

from monitor.daemon import metrics
from monitor.domain import Engine, Outcome, Reason, Status

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def sample(name: str, **labels: str) -> float:
    value = metrics.REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value


def an_outcome(status: Status, reason: Reason) -> Outcome:
    return Outcome(
        target="t/x",
        prefecture="t",
        started_at=T0,
        finished_at=T0 + timedelta(seconds=3),
        engine=Engine.HTTP,
        status=status,
        reason=reason,
        detail="",
        url="http://127.0.0.1/x",
    )


def test_it_counts_probes_by_status_and_reason_with_their_duration() -> None:
    before = sample("monitor_probes_total", status="anomaly", reason="overloaded")
    durations = sample("monitor_probe_duration_seconds_count", engine="http")
    metrics.probe_recorded(an_outcome(Status.ANOMALY, Reason.OVERLOADED))
    assert sample("monitor_probes_total", status="anomaly", reason="overloaded") == before + 1
    assert sample("monitor_probe_duration_seconds_count", engine="http") == durations + 1
    assert sample("monitor_probe_duration_seconds_bucket", engine="http", le="5.0") >= 1


def test_the_dispatcher_can_count_notifications_and_the_daemon_the_outbox() -> None:
    metrics.notification_sent("team-mail")
    metrics.notification_failed("team-mail")
    metrics.set_outbox_depth(4)
    assert sample("monitor_notifications_sent_total", channel="team-mail") >= 1
    assert sample("monitor_notifications_failed_total", channel="team-mail") >= 1
    assert sample("monitor_outbox_depth") == 4


def test_the_endpoint_serves_them_when_asked() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    metrics.serve(port, address="127.0.0.1")
    assert metrics.enabled()
    metrics.set_degraded(True)
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    assert "monitor_degraded 1.0" in text
    assert "monitor_probes_total" in text
    metrics.set_degraded(False)
