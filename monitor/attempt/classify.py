"""Classification: from a target and one observation to one outcome (docs/contract.md#outcomes).

Pure: no I/O, no clock. The rules are docs/contract.md#classification-rules:

* a probe that could not finish (``observation.failure``) is that failure — a network
  failure is ``anomaly/timeout`` or ``anomaly/connection``, the monitor's own fault
  ``monitor_error``. One exception: when a step failed because an element was missing
  (``unrecognized``) on a page that is itself an error, captcha or maintenance page, the page
  says more, and its finding is kept (so is a page too deep to be read at all);
* otherwise each final page is recognised by its platform's rules (by ``observe``, within
  the probe's deadline, when the observation is :class:`Recognised`), and the pages of one
  probe (legacy-booking: one per desk) are combined: ``available`` if any page has slots,
  ``unavailable`` if every page positively has none, else the most specific anomaly;
* ``available`` only ever comes from a platform's positive rule (a ``Positive`` finding);
  anything else claiming it is turned into ``anomaly/unrecognized`` and logged as a bug.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.config import Target
from monitor.details import record_line
from monitor.domain import (
    REASONS,
    Detail,
    Finding,
    Observation,
    Outcome,
    PageSnapshot,
    Reason,
    Status,
)
from monitor.platforms import ADAPTERS
from monitor.platforms.common import Positive, available, unavailable
from monitor.platforms.dates import to_utc

logger = logging.getLogger(__name__)

Result = tuple[PageSnapshot | None, Finding]

#: Position of every reason in the contract's order, most specific first within each status
#: (docs/contract.md#statuses-and-reasons).
_RANK = {reason: index for reasons in REASONS.values() for index, reason in enumerate(reasons)}


@dataclass(frozen=True)
class Recognised(Observation):
    """An observation whose final pages were recognised within the probe's deadline.

    ``findings[i]`` is what ``pages[i]`` means; :func:`monitor.attempt.probe.observe` makes
    them off the event loop, so that classification (in the recording's thread) only
    combines them and never parses a page after the deadline.
    """

    findings: tuple[Finding, ...] = ()


def recognise(target: Target, page: PageSnapshot) -> Finding:
    """What one final page means under the target's platform."""
    return ADAPTERS[target.platform].recognise(page, target)


def recognise_all(target: Target, pages: Sequence[PageSnapshot]) -> tuple[Finding, ...]:
    """What each of ``pages`` means, in order."""
    return tuple(recognise(target, page) for page in pages)


def _findings(target: Target, observation: Observation) -> tuple[Finding, ...]:
    """The observation's own findings when it has them for its pages, else recognised now."""
    if isinstance(observation, Recognised) and len(observation.findings) == len(observation.pages):
        return observation.findings
    return recognise_all(target, observation.pages)


def classify(target: Target, observation: Observation) -> Outcome:
    """The outcome of one probe (see the module docstring)."""
    page, finding = _decide(target, observation)
    finding = _guarded(finding, target)
    return Outcome(
        target=target.id,
        prefecture=target.prefecture,
        started_at=observation.started_at,
        finished_at=observation.finished_at,
        engine=observation.engine,
        status=finding.status,
        reason=finding.reason,
        detail=record_line(finding.detail),
        structured=finding.detail,
        url=observation.url,
        final_url=page.final_url if page is not None else None,
        http_status=page.http_status if page is not None else None,
        slot_count=finding.slot_count if finding.status is Status.AVAILABLE else None,
        earliest_slot=(
            to_utc(finding.earliest_slot)
            if finding.earliest_slot is not None and finding.status is Status.AVAILABLE
            else None
        ),
    )


def _decide(target: Target, observation: Observation) -> Result:
    last = observation.pages[-1] if observation.pages else None
    failure = observation.failure
    if failure is not None:
        if failure.reason is Reason.UNRECOGNIZED and last is not None:
            seen = _findings(target, observation)[-1]
            if seen.status is Status.ANOMALY and (
                seen.reason is not Reason.UNRECOGNIZED or seen.detail.code == "too_deep"
            ):
                return last, seen
        return last, failure
    if not observation.pages:
        return None, Finding(Status.MONITOR_ERROR, Reason.INTERNAL, Detail("no_page"))
    return combine(list(zip(observation.pages, _findings(target, observation), strict=True)))


def combine(results: Sequence[tuple[PageSnapshot, Finding]]) -> Result:
    """One finding for several final pages (docs/contract.md#platforms: legacy-booking desks).

    ``available`` if any page has slots (counts added, earliest of all), ``unavailable`` if
    every page positively has none, else the most specific anomaly. The detail names each
    page's label (its desk), the deciding one first.
    """
    if len(results) == 1:
        return results[0]
    # Only positive findings count: a forged "available" must not be laundered here.
    offered: list[Result] = [(p, f) for p, f in results if isinstance(f, Positive)]
    if offered:
        counts = [f.slot_count for _, f in offered if f.slot_count is not None]
        moments = [f.earliest_slot for _, f in offered if f.earliest_slot is not None]
        earliest = min(moments) if moments else None
        chosen = next((r for r in offered if r[1].earliest_slot == earliest), offered[0])
        reasons = {f.reason for _, f in offered}
        return chosen[0], available(
            Reason.SLOTS if Reason.SLOTS in reasons else Reason.OPEN,
            _details(results, chosen),
            slot_count=sum(counts) if counts else None,
            earliest_slot=earliest,
        )
    if all(f.status is Status.UNAVAILABLE for _, f in results):
        deciding = min(results, key=lambda r: _RANK[r[1].reason])
        return deciding[0], unavailable(deciding[1].reason, _details(results, deciding))
    problems = [r for r in results if r[1].status is Status.ANOMALY] or list(results)
    deciding = min(problems, key=lambda r: _RANK[r[1].reason])
    return deciding[0], Finding(deciding[1].status, deciding[1].reason, _details(results, deciding))


def _details(results: Sequence[tuple[PageSnapshot, Finding]], deciding: Result) -> Detail:
    """Each page's detail under its desk label, the deciding page first."""
    ordered = [deciding, *(r for r in results if r[0] is not deciding[0])]
    parts = tuple(
        Detail("desk", {"label": page.label, "finding": finding.detail})
        if page is not None and page.label
        else finding.detail
        for page, finding in ordered
    )
    return Detail("by_desk", {"desks": parts})


def _guarded(finding: Finding, target: Target) -> Finding:
    """``available`` only from a positive rule; anything else is a bug, never an alert."""
    if finding.status is Status.AVAILABLE and not isinstance(finding, Positive):
        logger.error(
            "bug: %s got %s/%s without a positive rule; recorded as unrecognized",
            target.id,
            finding.status,
            finding.reason,
        )
        return Finding(
            Status.ANOMALY,
            Reason.UNRECOGNIZED,
            Detail("guard", {"finding": finding.detail}),
        )
    return finding
