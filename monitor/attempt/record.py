"""Recording one observation: classify, keep the evidence, apply the alert policy, store.

The one path from a finished probe to the database, shared by ``monitor check`` and the
daemon, so that both record exactly the same way:

    classify(target, observation)            the outcome (pure); its detail also says
                                             when a screenshot shows only a page's top
    write_evidence(...) per final page       HTML and screenshot, content-addressed; when
                                             the directory cannot be written, the outcome
                                             is recorded all the same, its detail saying
                                             the evidence was not kept
    repo.record_probe(...)                   outcome + chain + state + events + outbox,
                                             in one transaction, the target's new state
                                             and its events from alerts.apply_outcome on
                                             its state as stored
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from monitor.alerts.policy import AlertPolicy, apply_outcome
from monitor.attempt.classify import classify
from monitor.config import Channel, Settings, Target
from monitor.details import record_line
from monitor.domain import (
    Detail,
    DetailCode,
    DetailValue,
    Event,
    Observation,
    Outcome,
    PageSnapshot,
    Platform,
    TargetState,
)
from monitor.store import ChannelsFor, Recorded
from monitor.store.evidence import EvidenceRecord, evidence_digest, write_evidence
from monitor.store.ports import Recorder

logger = logging.getLogger(__name__)

#: Platforms whose normal entry is a captcha: a captcha there does not start an anomaly alert.
CAPTCHA_ENTRY = frozenset({Platform.RDV_PREFECTURE})


def alert_policy(settings: Settings) -> AlertPolicy:
    """The alert policy of ``settings.alerts``."""
    alerts = settings.alerts
    return AlertPolicy(
        anomaly_after=alerts.anomaly_after,
        resolved_after=alerts.resolved_after,
        remind_every=alerts.remind_every,
    )


def keep_evidence(settings: Settings, pages: Sequence[PageSnapshot]) -> EvidenceRecord:
    """Write every final page's HTML (and screenshot), and its parts, under evidence_dir.

    A probe that never received a page (timeout, connection reset) has no evidence.
    """
    paths: set[str] = set()
    for page in pages:
        written = write_evidence(settings.evidence_dir, html=page.html, screenshot=page.screenshot)
        paths.update(written.paths)
        for part in page.parts:  # what the page's script loads (the calendar's weeks)
            paths.update(
                write_evidence(settings.evidence_dir, html=part.html, screenshot=None).paths
            )
    ordered = tuple(sorted(paths))
    return EvidenceRecord(paths=ordered, sha256=evidence_digest(ordered))


def _flagged(outcome: Outcome, code: DetailCode, **args: DetailValue) -> Outcome:
    """``outcome`` whose detail is wrapped in ``code``: its own detail, and ``args``."""
    inner = outcome.structured or Detail("fault", {"message": outcome.detail})
    flagged = Detail(code, {"detail": inner, **args})
    return replace(outcome, detail=record_line(flagged), structured=flagged)


def evidence_not_kept(outcome: Outcome, error: OSError) -> Outcome:
    """``outcome`` whose detail also says that its evidence files could not be written."""
    return _flagged(outcome, "evidence_not_kept", error=error.strerror or type(error).__name__)


def screenshot_cut(outcome: Outcome, pages: Sequence[PageSnapshot]) -> Outcome:
    """``outcome`` whose detail also says that a page's screenshot shows only its top."""
    cut = next((page.screenshot_cut for page in pages if page.screenshot_cut), None)
    if cut is None:
        return outcome
    return _flagged(
        outcome,
        "screenshot_cut",
        width=cut.width,
        height=cut.height,
        page_width=cut.page_width,
        page_height=cut.page_height,
    )


def channels_for(channels: Sequence[Channel]) -> ChannelsFor:
    """The channel ids an event goes to: those that want its kind and follow its target."""

    def pick(event: Event) -> list[str]:
        return [c.id for c in channels if c.wants(event.kind) and c.matches(event.target)]

    return pick


def record(
    repo: Recorder,
    target: Target,
    observation: Observation,
    *,
    settings: Settings,
    channels: Sequence[Channel],
    now: datetime,
    assisted_by: str | None = None,
) -> Outcome:
    """Classify, keep the evidence, alert and store one probe; returns the stored outcome.
    ``assisted_by``: the operator who opened the assisted session the probe ran in."""
    return record_attempt(
        repo,
        target,
        observation,
        settings=settings,
        channels=channels,
        now=now,
        assisted_by=assisted_by,
    ).outcome


class Record(Protocol):
    """:func:`record_attempt`'s shape: the one record path of the daemon's runner and of
    the assisted sessions' desk (tests hand in others)."""

    def __call__(
        self,
        repo: Recorder,
        target: Target,
        observation: Observation,
        *,
        settings: Settings,
        channels: Sequence[Channel],
        now: datetime,
        node: str | None = None,
        assisted_by: str | None = None,
    ) -> Recorded: ...


def record_attempt(
    repo: Recorder,
    target: Target,
    observation: Observation,
    *,
    settings: Settings,
    channels: Sequence[Channel],
    now: datetime,
    node: str | None = None,
    assisted_by: str | None = None,
) -> Recorded:
    """:func:`record`, also returning the target's state before and after the outcome;
    ``node``: the daemon node that made the probe (None for ``monitor check``);
    ``assisted_by``: the operator who opened the assisted session the probe ran in (None
    outside one; docs/contract.md#assisted-sessions)."""
    outcome = screenshot_cut(classify(target, observation), observation.pages)
    try:
        evidence = keep_evidence(settings, observation.pages)
    except OSError as exc:
        # The attempt happened and its result matters (slots may be open): record it
        # without its files rather than lose it to a full disk or a read-only mount.
        logger.error("%s: evidence not kept in %s: %s", target.id, settings.evidence_dir, exc)
        outcome = evidence_not_kept(outcome, exc)
        evidence = EvidenceRecord(paths=(), sha256=evidence_digest(()))
    outcome = replace(
        outcome,
        evidence=evidence.paths,
        sha256=evidence.sha256,
        node=node,
        assisted_by=assisted_by,
    )
    policy = alert_policy(settings)
    captcha_is_normal = target.platform in CAPTCHA_ENTRY

    def advance(state: TargetState) -> tuple[TargetState, list[Event]]:
        # In the recording's transaction, on the state as stored (read under its lock).
        return apply_outcome(
            state, outcome, policy=policy, now=now, captcha_is_normal=captcha_is_normal
        )

    recorded = repo.record_probe(outcome, advance, channels_for(channels), now=now)
    stored = recorded.outcome
    logger.debug(
        "%s: %s/%s (%s)",
        target.id,
        stored.status,
        stored.reason,
        stored.detail,
        extra={"target": target.id, "status": str(stored.status), "reason": str(stored.reason)},
    )
    for event in recorded.events:
        logger.info(
            "%s: %s", target.id, event.kind, extra={"target": target.id, "event": str(event.kind)}
        )
    return recorded
