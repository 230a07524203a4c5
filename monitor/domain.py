"""Frozen value types shared by every layer: outcome vocabulary, observations, outcomes, events.

The names here are the external contract of docs/contract.md (status, reason and event names,
outcome field names); do not rename them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal, NewType


class Status(StrEnum):
    """What a probe found, from the point of view of a person trying to book."""

    AVAILABLE = "available"  #: slots are offered, or a form/portal without slots is open
    UNAVAILABLE = "unavailable"  #: the site works and positively says there is nothing
    ANOMALY = "anomaly"  #: the site fails, bars the way, or shows an unrecognised page
    MONITOR_ERROR = "monitor_error"  #: the fault is the monitor's; never counted against a site


class Reason(StrEnum):
    """Why a probe got its status. See ``REASONS`` for which status each belongs to."""

    SLOTS = "slots"
    OPEN = "open"
    NO_SLOT = "no_slot"
    NO_CALENDAR = "no_calendar"
    CLOSED = "closed"
    CAPTCHA = "captcha"
    MAINTENANCE = "maintenance"
    OVERLOADED = "overloaded"
    HTTP_ERROR = "http_error"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    BLOCKED = "blocked"
    SESSION_LOST = "session_lost"
    EMPTY_PAGE = "empty_page"
    UNRECOGNIZED = "unrecognized"
    BROWSER_CRASH = "browser_crash"
    NETWORK_DOWN = "network_down"
    INTERNAL = "internal"


#: Which reasons each status admits, anomaly reasons most specific first.
REASONS: dict[Status, tuple[Reason, ...]] = {
    Status.AVAILABLE: (Reason.SLOTS, Reason.OPEN),
    Status.UNAVAILABLE: (Reason.NO_SLOT, Reason.NO_CALENDAR, Reason.CLOSED),
    Status.ANOMALY: (
        Reason.CAPTCHA,
        Reason.MAINTENANCE,
        Reason.OVERLOADED,
        Reason.BLOCKED,
        Reason.SESSION_LOST,
        Reason.HTTP_ERROR,
        Reason.TIMEOUT,
        Reason.CONNECTION,
        Reason.EMPTY_PAGE,
        Reason.UNRECOGNIZED,
    ),
    Status.MONITOR_ERROR: (Reason.BROWSER_CRASH, Reason.NETWORK_DOWN, Reason.INTERNAL),
}

#: Reasons that mean the network path to a site failed (used by the own-fault guard).
NETWORK_REASONS: frozenset[Reason] = frozenset({Reason.CONNECTION, Reason.TIMEOUT})


def status_of(reason: Reason) -> Status:
    """The one status a reason belongs to."""
    for status, reasons in REASONS.items():
        if reason in reasons:
            return status
    raise ValueError(f"reason {reason!r} belongs to no status")  # pragma: no cover


class Engine(StrEnum):
    """How a target is fetched."""

    HTTP = "http"  #: httpx: plain requests, cookies, form posts
    BROWSER = "browser"  #: Playwright driving Chromium


class EventKind(StrEnum):
    """Transitions worth telling a person about (docs/contract.md#events-and-notifications)."""

    SLOTS_OPENED = "slots_opened"
    SLOTS_CLOSED = "slots_closed"
    ANOMALY_STARTED = "anomaly_started"
    ANOMALY_RESOLVED = "anomaly_resolved"
    MONITOR_DEGRADED = "monitor_degraded"
    MONITOR_RECOVERED = "monitor_recovered"
    #: an ``assist: true`` target has no live assisted session: a person is asked to open one
    ASSIST_NEEDED = "assist_needed"


@dataclass(frozen=True)
class ScreenshotCut:
    """A screenshot that shows only the top left of its page: what it kept, of how much (px)."""

    width: int
    height: int
    page_width: int
    page_height: int


@dataclass(frozen=True)
class PageSnapshot:
    """One page as the probe saw it at the end of a flow (or of one branch of it)."""

    url: str  #: the URL requested first for this page
    final_url: str  #: the URL after redirects
    http_status: int | None
    html: str
    label: str = ""  #: which branch this page ends, e.g. a desk id on legacy-booking
    screenshot: bytes | None = None  #: PNG, browser engine only
    #: set when the screenshot shows only the top of a page past the browser engine's caps
    screenshot_cut: ScreenshotCut | None = None
    #: the answer's ``Retry-After`` header as sent (seconds or an HTTP date), if any
    retry_after: str | None = None
    #: what the page's script loads into it, fetched by the flow and read with the page
    #: (the legacy calendar's week tables), in request order; kept as evidence too
    parts: tuple[PageSnapshot, ...] = ()


# fmt: off
#: The detail codes of what a site showed, worded in :mod:`monitor.details.pages`.
PageCode = Literal[
    # what the page says
    "page_says", "unknown_page", "too_deep", "unknown_page_for_target", "unknown_week_answer",
    "captcha", "maintenance", "overloaded", "blocked", "error_page", "no_html", "no_text",
    "retry_after",
    # where a flow ended
    "back_to_conditions", "back_to_desk_choice", "no_calendar_after_description",
    "back_to_landing", "desks_missing",
    # slots, forms, portals
    "slots_offered", "no_first_date", "form_open", "sign_in_page", "portal_home", "rule_matches",
    # the legacy calendar
    "calendar_free_cells", "calendar_no_week", "calendar_no_free_cell", "calendar_missing",
    # several pages, one outcome
    "by_desk", "desk",
]

#: The detail codes of what went wrong on the way, worded in :mod:`monitor.details.faults`.
FaultCode = Literal[
    # the probe's own steps
    "probe_timeout", "step_timeout", "timed_out", "network_code", "request_failed",
    "browser_gone", "unexpected_during", "too_many_redirects", "no_answer",
    "connection_refused", "connection_reset", "connection_closed", "tls_failure",
    "cannot_resolve", "broken_answer", "cannot_connect", "connection_failed", "no_element",
    "no_field", "field_without_name", "no_choice", "no_option", "not_in_form",
    "button_without_form",
    # the step that failed, the end of a sentence about it
    "doing.load", "doing.submit", "doing.click", "doing.fill", "doing.check", "doing.select",
    "doing.wait", "doing.after_click", "doing.open_page", "doing.open_context", "doing.fetch",
    "doing.screenshot",
    # the monitor itself
    "no_page", "guard", "unexpected", "crashed", "fault", "network_down", "own_network_down",
    "every_host_failing", "host_answered", "connectivity_off", "connectivity_ok",
    "connectivity_failed", "unreachable_url",
    # hostile pages
    "destination_refused", "evidence_not_kept", "response_too_large", "screenshot_cut",
]
# fmt: on

#: Every code the monitor writes a detail with; each has its words in :mod:`monitor.details`
#: (a test keeps the two the same), so a misspelt code does not type-check.
DetailCode = PageCode | FaultCode

#: A code read back from a stored row that this version may not know (a newer one wrote
#: it): kept as stored and shown by the row's recorded line. Only :mod:`monitor.details`
#: makes one, when it reads a row.
StoredCode = NewType("StoredCode", str)


@dataclass(frozen=True)
class Detail:
    """Why an outcome is what it is, as data: a code and its values (docs/contract.md#details).

    The words live in :mod:`monitor.details`, one sentence per code and language; a value
    that is the page's own text is shown quoted, as the page wrote it. ``Detail("maintenance",
    {"text": "Site en maintenance"})`` reads "maintenance: «Site en maintenance»" in English.
    """

    code: DetailCode | StoredCode
    args: Mapping[str, DetailValue] = field(default_factory=dict)

    def __hash__(self) -> int:  # args is a mapping: hash what it holds
        return hash((self.code, tuple(sorted(self.args.items(), key=lambda item: item[0]))))


#: What a detail's value can be: a number, a word, a flag, or details of its own.
DetailValue = str | int | float | bool | None | Detail | tuple[Detail, ...]


@dataclass(frozen=True)
class Finding:
    """What recognition says one page means."""

    status: Status
    reason: Reason
    detail: Detail  #: the message the page showed, or what was wrong
    slot_count: int | None = None
    earliest_slot: datetime | None = None  #: timezone-aware


@dataclass(frozen=True)
class Observation:
    """The raw result of one probe, before classification. Probes never touch the database."""

    target: str  #: full target id, e.g. "92/remise-titre"
    engine: Engine
    url: str
    started_at: datetime  #: timezone-aware UTC
    finished_at: datetime
    pages: tuple[PageSnapshot, ...] = ()
    #: set when the probe could not finish: a reason of REASONS, a detail line, the HTTP status
    failure: Finding | None = None


@dataclass(frozen=True)
class Outcome:
    """One stored probe result: one per probe, whatever happened (docs/contract.md#outcomes).

    ``id``, ``evidence``, ``sha256`` and ``chain`` are filled in by the store.
    """

    target: str
    prefecture: str
    started_at: datetime
    finished_at: datetime
    engine: Engine
    status: Status
    reason: Reason
    detail: str  #: the English line, as recorded (the chain protects it)
    url: str
    final_url: str | None = None
    http_status: int | None = None
    slot_count: int | None = None
    earliest_slot: datetime | None = None
    #: the code and values ``detail`` was written from, shown in the reader's language
    #: (stored as ``detail_code`` and ``detail_args``); None on rows older than migration 0002
    structured: Detail | None = None
    evidence: tuple[str, ...] = ()
    sha256: str | None = None
    chain: str | None = None
    #: the daemon node that made the probe (``$MONITOR_NODE`` or ``host:pid``); None for
    #: ``monitor check`` and for rows older than migration 0004
    node: str | None = None
    #: the operator who opened the assisted session the probe ran in; None outside one and
    #: for rows older than migration 0005
    assisted_by: str | None = None
    id: int | None = None

    @property
    def duration_ms(self) -> int:
        return milliseconds_between(self.started_at, self.finished_at)


def milliseconds_between(start: datetime, end: datetime) -> int:
    """An outcome's ``duration_ms``, derived from its two timestamps (the ``outcomes``
    column keeps a copy for SQL; the hash chain leaves it out)."""
    return int((end - start).total_seconds() * 1000)


@dataclass(frozen=True)
class TargetState:
    """What the alert policy remembers about one target between two outcomes.

    The monitor's own health is kept as a TargetState too, under ``MONITOR_TARGET`` (or, per
    fleet node, under :func:`monitor_key`).
    """

    target: str
    status: Status | None = None
    reason: Reason | None = None
    since: datetime | None = None  #: when the current status began
    last_probe_at: datetime | None = None
    streak: int = 0  #: consecutive outcomes with the current status
    consecutive_anomalies: int = 0  #: anomalies in a row that count towards anomaly_started
    consecutive_healthy: int = 0  #: non-anomaly site outcomes in a row
    anomaly_open: bool = False  #: anomaly_started sent and not yet resolved
    anomaly_since: datetime | None = None
    slots_open: bool = False  #: the last slot event was slots_opened
    last_available_at: datetime | None = None
    last_alert_at: datetime | None = None  #: for remind_every
    backoff_level: int = 0  #: consecutive anomalies used for exponential back-off


#: The pseudo-target under which the monitor's own health (degraded / recovered) is kept,
#: and the target of its events. A fleet node keeps its own under :func:`monitor_key`.
MONITOR_TARGET = "*monitor*"
_NODE_SEPARATOR = "@"


def monitor_key(node: str | None) -> str:
    """Where a node's own health state is stored: ``*monitor*@NODE`` for a fleet node, the
    single ``MONITOR_TARGET`` for the one daemon of embedded mode (``node`` None)."""
    return MONITOR_TARGET if node is None else f"{MONITOR_TARGET}{_NODE_SEPARATOR}{node}"


def is_monitor_key(target: str) -> bool:
    """Whether a state or event key is the monitor's own health, not a site's target."""
    return target == MONITOR_TARGET or target.startswith(MONITOR_TARGET + _NODE_SEPARATOR)


def monitor_key_node(target: str) -> str | None:
    """The node of a per-node health key (None for ``MONITOR_TARGET`` or a site target)."""
    prefix = MONITOR_TARGET + _NODE_SEPARATOR
    return target[len(prefix) :] if target.startswith(prefix) else None


@dataclass(frozen=True)
class Event:
    """A transition to tell people about; stored in the outbox before it is sent."""

    kind: EventKind
    target: str  #: full target id, or MONITOR_TARGET
    occurred_at: datetime
    outcome_id: int | None = None
    reminder: bool = False  #: a re-send of a condition still open (remind_every)
    payload: dict[str, object] = field(default_factory=dict)
    id: int | None = None


class Platform(StrEnum):
    """How a target's pages are walked and recognised (docs/contract.md#platforms)."""

    LEGACY_BOOKING = "legacy-booking"
    RDV_PREFECTURE = "rdv-prefecture"
    RDV_SERVICE_PUBLIC = "rdv-service-public"
    DEMARCHES_SIMPLIFIEES = "demarches-simplifiees"
    ANEF = "anef"
    GENERIC = "generic"


#: The engine each platform uses when a target does not name one.
DEFAULT_ENGINE: dict[Platform, Engine] = {
    Platform.LEGACY_BOOKING: Engine.HTTP,
    Platform.RDV_PREFECTURE: Engine.BROWSER,
    Platform.RDV_SERVICE_PUBLIC: Engine.HTTP,
    Platform.DEMARCHES_SIMPLIFIEES: Engine.HTTP,
    Platform.ANEF: Engine.BROWSER,
    Platform.GENERIC: Engine.BROWSER,
}
