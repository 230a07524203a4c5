"""Small builders for recognition tests: a resolved Target and a PageSnapshot from HTML."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from monitor.config import Rules, Step, Target
from monitor.config.durations import Jitter
from monitor.domain import DEFAULT_ENGINE, Engine, PageSnapshot, Platform

URLS = {
    Platform.LEGACY_BOOKING: "https://www.example-pref.gouv.fr/booking/create/5001",
    Platform.RDV_PREFECTURE: "https://rdv.example.gouv.fr/rdvpref/reservation/demarche/5002/",
    Platform.RDV_SERVICE_PUBLIC: "https://rdv.example.gouv.fr/prendre_rdv?public_link_organisation_id=5003",
    Platform.DEMARCHES_SIMPLIFIEES: "https://ds.example.fr/commencer/pref-5004",
    Platform.ANEF: "https://anef.example.gouv.fr/particuliers/",
    Platform.GENERIC: "https://www.example-pref.gouv.fr/rdv",
}


def target(
    platform: Platform,
    *,
    url: str | None = None,
    engine: Engine | None = None,
    desks: tuple[int, ...] = (),
    steps: tuple[dict[str, Any], ...] = (),
    rules: dict[str, Any] | None = None,
    target_id: str = "t/case",
) -> Target:
    """A resolved target as the config would give it."""
    return Target(
        id=target_id,
        local_id=target_id.split("/", 1)[1],
        prefecture=target_id.split("/", 1)[0],
        prefecture_name="Préfecture de test",
        name="case",
        platform=platform,
        url=url or URLS[platform],
        engine=engine or DEFAULT_ENGINE[platform],
        interval=timedelta(minutes=10),
        jitter=Jitter(fraction=0),
        active_hours=None,
        desks=desks,
        steps=tuple(Step.model_validate(step) for step in steps),
        rules=Rules.model_validate(rules) if rules is not None else None,
        host="www.example-pref.gouv.fr",
    )


def page(
    html: str,
    *,
    status: int | None = 200,
    url: str = "https://www.example-pref.gouv.fr/booking/create/5001",
    final_url: str | None = None,
    label: str = "",
) -> PageSnapshot:
    """A snapshot of ``html`` as an engine would return it."""
    return PageSnapshot(
        url=url, final_url=final_url or url, http_status=status, html=html, label=label
    )


def html(body: str, *, title: str = "Prise de rendez-vous") -> str:
    """A minimal document around ``body``."""
    return (
        f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{title}</title>'
        f"</head><body>{body}</body></html>"
    )
