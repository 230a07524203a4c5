"""What the daemon drives, gathered in one place so tests can replace any part; and the
config in force, which parts that outlive a reload read.

engines      monitor.probes.engines.Engines: HTTP and browser engines, made on first use
observe      monitor.attempt.probe.observe: one probe, never raises for the site's doing
record       monitor.attempt.record.record_attempt: classify, evidence, alerts, one
             transaction; the target's state before and after come back with the outcome
dispatcher   monitor.alerts.dispatcher.Dispatcher: sends the outbox (None: nothing is sent)
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from monitor.attempt.record import Record
from monitor.config import Config, Target
from monitor.daemon import metrics
from monitor.domain import Engine, Observation
from monitor.probes.base import ProbeEngine, RequestGate
from monitor.store.ports import Outbox

if TYPE_CHECKING:
    from monitor.alerts.dispatcher import Dispatcher

log = logging.getLogger(__name__)

#: How long the dispatcher may finish sends in flight at shutdown (within the 30 s budget).
DISPATCH_CLOSE_TIMEOUT = 3.0


class EngineSet(Protocol):
    async def get(self, kind: Engine) -> ProbeEngine: ...

    async def aclose(self) -> None: ...


class Observe(Protocol):
    def __call__(
        self, target: Target, engine: ProbeEngine, *, timeout: float, gate: RequestGate
    ) -> Awaitable[Observation]: ...


class CurrentConfig:
    """The daemon's config as of its latest reload (the daemon sets ``value``); calling it
    reads it, so it serves wherever a ``Callable[[], Config]`` is asked for."""

    def __init__(self, config: Config) -> None:
        self.value = config

    def __call__(self) -> Config:
        return self.value


@dataclass
class Components:
    engines: EngineSet
    observe: Observe
    record: Record
    dispatcher: Dispatcher | None

    @classmethod
    def default(cls, config: Config, repository: Outbox, node: str) -> Components:
        from monitor.attempt.probe import observe
        from monitor.attempt.record import record_attempt
        from monitor.probes.engines import Engines

        return cls(
            engines=Engines(config.settings),
            observe=observe,
            record=record_attempt,
            dispatcher=make_dispatcher(repository, config, node),
        )


def make_dispatcher(repository: Outbox, config: Config, node: str) -> Dispatcher | None:
    """The notification dispatcher, counting its results in the metrics."""
    try:
        from monitor.alerts.dispatcher import Dispatcher
    except ImportError:  # pragma: no cover - a partial installation
        log.warning("monitor.alerts.dispatcher is missing: notifications stay in the outbox")
        return None
    return Dispatcher(
        repository,
        config,
        node=node,
        close_timeout=DISPATCH_CLOSE_TIMEOUT,
        on_result=_count_result,
    )


def _count_result(channel_id: str, result: str) -> None:
    if result == "sent":
        metrics.notification_sent(channel_id)
    else:
        metrics.notification_failed(channel_id)
