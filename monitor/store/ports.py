"""The store as each part of the program sees it: one protocol per consumer, with only the
:class:`~monitor.store.repository.Repository` methods that consumer calls.

    OutboxResults   delivery results written (monitor.alerts.delivery_results)
    Outbox          claims, results, and the outcome behind an event (monitor.alerts.dispatcher)
    Recorder        one probe's transaction (monitor.attempt.record)
    Ledger          probe claims, back-off times, and the Recorder (monitor.daemon.runner)
    HealthRecords   the monitor's own health state and events (monitor.daemon.health)
    ChainHeads      every target's chain head and row count (monitor.evidence.anchors)
    NodeUpkeep      heartbeats, old claims, outbox depth, anchors (monitor.daemon.housekeeping)
    FleetClaims     claimed slots and back-off times, for the fleet's tick (monitor.daemon.cluster)
    StatusReads     what the status page reads beside its own queries (monitor.publish)
    ChainRecord     the rows ``verify`` walks (monitor.evidence.verify)
    DossierReads    the rows and chain a dossier holds (monitor.evidence.dossier.build)
    SlotHistory     when slots first appeared, per target (monitor.reports.week_hours_query,
                    the learned schedule)
    AssistRecords   assisted sessions opened and ended, and assist_needed (monitor.assist)

The Repository satisfies every one (checked by mypy below); ``tests/fakes.py`` holds
in-memory stand-ins for the daemon's ports, held to the Repository's semantics by
``tests/integration/test_ports_contract.py``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol, Unpack

from sqlalchemy import Engine

from monitor.config import Channel
from monitor.domain import Event, Outcome, TargetState
from monitor.store.coordination import NodeBeat
from monitor.store.outbox import ChannelsFor, PendingDelivery
from monitor.store.recording import Advance, Recorded

if TYPE_CHECKING:
    from monitor.store.repository import HistoryFilters, Repository

__all__ = [
    "AssistRecords",
    "ChainHeads",
    "ChainRecord",
    "DossierReads",
    "FleetClaims",
    "HealthRecords",
    "Ledger",
    "NodeUpkeep",
    "Outbox",
    "OutboxResults",
    "Recorder",
    "SlotHistory",
    "StatusReads",
]


class OutboxResults(Protocol):
    """How a claimed delivery ended; each returns whether this node still held the claim."""

    def mark_sent(self, delivery_id: int, now: datetime, *, node: str) -> bool: ...

    def mark_retry(
        self, delivery_id: int, now: datetime, next_attempt_at: datetime, error: str, *, node: str
    ) -> bool: ...

    def mark_failed(self, delivery_id: int, now: datetime, error: str, *, node: str) -> bool: ...


class Outbox(OutboxResults, Protocol):
    """The dispatcher's store: due deliveries claimed, their results, and the outcome an
    event came from (for its screenshot)."""

    def claim_deliveries(
        self, node: str, now: datetime, limit: int, lease: timedelta
    ) -> list[PendingDelivery]: ...

    def outcome(self, outcome_id: int) -> Outcome | None: ...


class Recorder(Protocol):
    """One probe's outcome, its target's new state and its events, in one transaction."""

    def record_probe(
        self,
        outcome: Outcome,
        advance: Advance,
        channels_for: ChannelsFor,
        *,
        now: datetime | None = None,
    ) -> Recorded: ...


class Ledger(Recorder, Protocol):
    """The probe runner's store: a run's claim, its recording and the back-off after it."""

    def claim_probe(self, target: str, slot: datetime, node: str) -> bool: ...

    def next_probes(self) -> dict[str, datetime]: ...

    def schedule_next_probe(self, target: str, at: datetime | None) -> None: ...


class HealthRecords(Protocol):
    """The monitor's own health: its state row, and its events with their deliveries."""

    def get_state(self, target: str) -> TargetState: ...

    def record_events(
        self,
        events: Sequence[Event],
        channels_for: ChannelsFor,
        *,
        state: TargetState | None = None,
        now: datetime | None = None,
    ) -> list[Event]: ...


class ChainHeads(Protocol):
    """Every target's chain head, for the anchors file."""

    def chain_heads_and_counts(self) -> list[tuple[str, str, int]]: ...


class NodeUpkeep(ChainHeads, Protocol):
    """A daemon's upkeep: its heartbeat row, old claims, the outbox gauge, the anchors."""

    def beat(
        self,
        node: str,
        pid: int,
        version: str,
        started_at: datetime,
        *,
        now: datetime | None = None,
    ) -> None: ...

    def forget_node(self, node: str) -> None: ...

    def forget_silent_nodes(self, before: datetime) -> list[NodeBeat]: ...

    def prune_claims(self, before: datetime) -> int: ...

    def outbox_depth(self) -> int: ...


class FleetClaims(Protocol):
    """What the fleet's tick reads before it queues runs: claims, back-off times."""

    def claimed_since(self, since: datetime) -> set[tuple[str, datetime]]: ...

    def next_probes(self) -> dict[str, datetime]: ...


class SlotHistory(Protocol):
    """When slots first appeared: each target's ``slots_opened`` times (reminders left out),
    UTC, oldest first, from ``since`` on; only targets that have one are in the mapping."""

    def slots_opened_times(
        self, target_ids: Collection[str] | None, since: datetime | None
    ) -> Mapping[str, list[datetime]]: ...


class WatchedHours(Protocol):
    """The UTC hours in which each target saw its page (a probe ``available`` or
    ``unavailable``), oldest first, from ``since``'s hour on; only targets with one are in
    the mapping. The learned schedule divides openings by them
    (docs/contract.md#learned-schedule)."""

    def watched_hours(
        self, target_ids: Collection[str] | None, since: datetime | None
    ) -> Mapping[str, list[datetime]]: ...


class StatusReads(SlotHistory, Protocol):
    """The status page's reads: states, latest outcomes, back-off times and when slots
    appeared, and the engine its own queries (monitor.publish.query, monitor.reports) run on."""

    @property
    def engine(self) -> Engine: ...

    def states(self) -> list[TargetState]: ...

    def latest_outcomes(self, targets: Sequence[str]) -> dict[str, Outcome]: ...

    def next_probes(self) -> dict[str, datetime]: ...


class ChainRecord(Protocol):
    """What ``verify`` walks: each target's rows in chain order, and the engine its head
    and id queries run on."""

    @property
    def engine(self) -> Engine: ...

    def outcomes_for_target(self, target: str, oldest_first: bool = True) -> Iterator[Outcome]: ...

    def targets_with_outcomes(self) -> list[str]: ...


class DossierReads(Protocol):
    """What a dossier reads: a target's rows, its chain head, and the engine for the link
    before its first row."""

    @property
    def engine(self) -> Engine: ...

    def history(self, **filters: Unpack[HistoryFilters]) -> Iterator[Outcome]: ...

    def chain_head(self, target: str) -> str | None: ...


class AssistRecords(Protocol):
    """The assisted sessions' desk: each session recorded when opened and when it ends
    (``reason``: a ``monitor.assist.views.EndReason`` value), the live ones across a fleet,
    and ``assist_needed`` written with its deliveries (monitor.store.assist)."""

    def open_assist_session(self, target: str, node: str, operator: str, now: datetime) -> int: ...

    def end_assist_session(
        self, session_id: int, reason: str, reads: int, now: datetime
    ) -> None: ...

    def end_node_assist_sessions(self, node: str, reason: str, now: datetime) -> list[str]: ...

    def live_assist_sessions(self) -> Mapping[str, str]: ...

    def last_asked_for_assist(self, target: str) -> datetime | None: ...

    def ask_for_assist(
        self, target: str, *, console_url: str, channels: Sequence[Channel], now: datetime
    ) -> bool: ...


if TYPE_CHECKING:

    def _repository_is_every_port(
        repository: Repository,
    ) -> tuple[
        Outbox,
        Ledger,
        HealthRecords,
        NodeUpkeep,
        FleetClaims,
        StatusReads,
        ChainRecord,
        DossierReads,
        SlotHistory,
        AssistRecords,
    ]:
        """Never called: mypy checks that the Repository satisfies each port."""
        return (
            repository,
            repository,
            repository,
            repository,
            repository,
            repository,
            repository,
            repository,
            repository,
            repository,
        )
