"""Prometheus metrics, served only when ``monitor run --metrics-port N`` asks for them.

The recording functions are cheap no-ops until :func:`serve` is called, so the daemon,
the dispatcher and ``monitor check`` call them unconditionally:

    probe_recorded(outcome)           monitor_probes_total{status,reason}, duration histogram
    notification_sent(channel_id)     monitor_notifications_sent_total{channel}
    notification_failed(channel_id)   monitor_notifications_failed_total{channel}
    set_outbox_depth(n)               monitor_outbox_depth
    set_degraded(flag)                monitor_degraded (1 while the own-fault guard is on)
    run_skipped()                     monitor_runs_skipped_total (a turn skipped: the
                                      target's previous run still going)

Labels carry only vocabulary words and channel ids, never URLs (they can hold secrets).
The endpoint listens on the loopback interface unless told otherwise (``--metrics-host``):
a scraper on the same machine (or through an SSH tunnel, a reverse proxy) reaches it, the
rest of the network does not.
Metrics live in their own registry, so tests can create and read them freely.
"""

from __future__ import annotations

import logging
import threading

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from monitor.domain import Outcome
from monitor.errors import UsageError

__all__ = [
    "REGISTRY",
    "enabled",
    "notification_failed",
    "notification_sent",
    "probe_recorded",
    "run_skipped",
    "serve",
    "set_degraded",
    "set_outbox_depth",
]

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

PROBES = Counter(
    "monitor_probes",
    "Probes recorded, by outcome status and reason.",
    ["status", "reason"],
    registry=REGISTRY,
)
PROBE_DURATION = Histogram(
    "monitor_probe_duration_seconds",
    "Duration of a probe from its first request to its last answer.",
    ["engine"],
    buckets=(0.25, 0.5, 1, 2, 5, 10, 20, 30, 45, 60, 120),
    registry=REGISTRY,
)
NOTIFICATIONS_SENT = Counter(
    "monitor_notifications_sent",
    "Notifications a channel accepted.",
    ["channel"],
    registry=REGISTRY,
)
NOTIFICATIONS_FAILED = Counter(
    "monitor_notifications_failed",
    "Notification attempts that failed (transient or permanent).",
    ["channel"],
    registry=REGISTRY,
)
OUTBOX_DEPTH = Gauge(
    "monitor_outbox_depth",
    "Deliveries waiting to be sent (pending or being sent).",
    registry=REGISTRY,
)
RUNS_SKIPPED = Counter(
    "monitor_runs_skipped",
    "Scheduled turns skipped because the target's previous run was still going.",
    registry=REGISTRY,
)
DEGRADED = Gauge(
    "monitor_degraded",
    "1 while the monitor judges its own network down, else 0.",
    registry=REGISTRY,
)

_lock = threading.Lock()
_served_on: int | None = None


def enabled() -> bool:
    """Whether the metrics endpoint is up (the functions below record either way)."""
    return _served_on is not None


#: Where ``--metrics-port`` listens by default: this machine only.
DEFAULT_ADDRESS = "127.0.0.1"


def serve(port: int, address: str = DEFAULT_ADDRESS) -> None:
    """Start the /metrics endpoint in a background thread (once per process)."""
    global _served_on
    with _lock:
        if _served_on is not None:
            return
        try:
            start_http_server(port, addr=address, registry=REGISTRY)
        except OSError as exc:  # a port in use, an address this machine does not have
            raise UsageError(
                f"--metrics-port {port} --metrics-host {address}: cannot listen there: "
                f"{exc.strerror or exc}"
            ) from None
        _served_on = port
    shown = f"[{address}]" if ":" in address else address
    log.info("metrics on http://%s:%d/metrics", shown, port)


def probe_recorded(outcome: Outcome) -> None:
    """Count one recorded outcome and its duration."""
    PROBES.labels(status=str(outcome.status), reason=str(outcome.reason)).inc()
    seconds = max(0.0, (outcome.finished_at - outcome.started_at).total_seconds())
    PROBE_DURATION.labels(engine=str(outcome.engine)).observe(seconds)


def notification_sent(channel_id: str) -> None:
    """For the dispatcher: a channel accepted a message."""
    NOTIFICATIONS_SENT.labels(channel=channel_id).inc()


def notification_failed(channel_id: str) -> None:
    """For the dispatcher: an attempt failed (it may be retried)."""
    NOTIFICATIONS_FAILED.labels(channel=channel_id).inc()


def run_skipped() -> None:
    RUNS_SKIPPED.inc()


def set_outbox_depth(depth: int) -> None:
    OUTBOX_DEPTH.set(depth)


def set_degraded(degraded: bool) -> None:
    DEGRADED.set(1 if degraded else 0)
