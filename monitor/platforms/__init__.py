"""Platform adapters: how each kind of booking site is walked and what its pages mean.

One module per platform (docs/contract.md#platforms), each with its anchors (messages, selectors) at
the top, a pure ``recognise(snapshot, target) -> Finding`` and an async
``flow(session, target, options) -> tuple[PageSnapshot, ...]`` that walks the pages a person
would and stops before any captcha or personal-data step. Shared rules are in ``common``,
text normalisation in ``text``, dates in ``dates``.

    ADAPTERS[platform].flow       what ``monitor.attempt.probe.observe`` runs
    ADAPTERS[platform].recognise  what ``monitor.attempt.classify`` applies to each final page
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from monitor.config import Target
from monitor.domain import Finding, PageSnapshot, Platform
from monitor.platforms import (
    anef,
    demarches_simplifiees,
    generic,
    legacy_booking,
    rdv_prefecture,
    rdv_service_public,
)
from monitor.platforms.common import FlowOptions
from monitor.probes.base import PageSession

Flow = Callable[[PageSession, Target, FlowOptions], Awaitable[tuple[PageSnapshot, ...]]]
Recognise = Callable[[PageSnapshot, Target], Finding]


@dataclass(frozen=True)
class Adapter:
    """A platform's flow and recognition."""

    flow: Flow
    recognise: Recognise


ADAPTERS: Mapping[Platform, Adapter] = MappingProxyType(
    {
        Platform.LEGACY_BOOKING: Adapter(legacy_booking.flow, legacy_booking.recognise),
        Platform.RDV_PREFECTURE: Adapter(rdv_prefecture.flow, rdv_prefecture.recognise),
        Platform.RDV_SERVICE_PUBLIC: Adapter(rdv_service_public.flow, rdv_service_public.recognise),
        Platform.DEMARCHES_SIMPLIFIEES: Adapter(
            demarches_simplifiees.flow, demarches_simplifiees.recognise
        ),
        Platform.ANEF: Adapter(anef.flow, anef.recognise),
        Platform.GENERIC: Adapter(generic.flow, generic.recognise),
    }
)

__all__ = ["ADAPTERS", "Adapter", "Flow", "FlowOptions", "Recognise"]
