"""A database with known outcomes for the status page tests, and the figures expected of it.

The outcomes are stored through the real repository (real chains and states); the
expected figures are computed here from the same list, directly and naively (per attempt,
per local hour), independently of monitor.publish's SQL and aggregation.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from helpers import Database, an_outcome, png_bytes

from monitor.domain import Outcome, Reason, Status, TargetState
from monitor.store.evidence import write_evidence

#: The recorded outcomes lie before this (the page's window is the real clock's last 90 days).
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
PARIS = ZoneInfo("Europe/Paris")
HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'

#: (prefecture, prefecture name, local id, procedure name)
TARGETS = (
    ("92", "Préfecture des Hauts-de-Seine", "remise-titre", "Remise de titre de séjour"),
    ("92", "Préfecture des Hauts-de-Seine", "naturalisation", "Naturalisation <b>décret</b>"),
    ("75", "Préfecture de police", "titre", "Titre de séjour"),
    ("75", "Préfecture de police", "jamais", "Démarche jamais sondée"),
)


def _remise_titre() -> list[Outcome]:
    start = NOW - timedelta(days=6)
    rows = [an_outcome("92/remise-titre", NOW - timedelta(days=100), Reason.SLOTS, slot_count=2)]
    for i in range(48):
        at = start + timedelta(hours=3 * i)
        reason = Reason.NO_SLOT
        changes: dict[str, object] = {}
        if 10 <= i <= 12:
            reason = Reason.OVERLOADED
        elif i == 13:
            reason = Reason.HTTP_ERROR
        elif i == 20:
            reason, changes = Reason.SLOTS, {"slot_count": 3, "earliest_slot": at + timedelta(10)}
        elif i == 21:
            reason, changes = Reason.SLOTS, {"slot_count": 1, "earliest_slot": at + timedelta(45)}
        elif i == 30:
            reason = Reason.NETWORK_DOWN
        elif 31 <= i <= 33:
            reason = Reason.TIMEOUT
        rows.append(an_outcome("92/remise-titre", at, reason, **changes))
        if i == 5:  # an hour with one no-slot and one anomaly: drawn as an anomaly
            rows.append(an_outcome("92/remise-titre", at + timedelta(minutes=10), Reason.BLOCKED))
        if i == 20:  # a slot and a no-slot in one hour: drawn as available
            rows.append(an_outcome("92/remise-titre", at + timedelta(minutes=20), Reason.NO_SLOT))
    return rows


def _naturalisation() -> list[Outcome]:
    start = NOW - timedelta(days=4)
    rows = [
        an_outcome("92/naturalisation", start + timedelta(hours=6 * i), Reason.MAINTENANCE)
        for i in range(16)
    ]
    rows[0] = replace(rows[0], status=Status.UNAVAILABLE, reason=Reason.NO_SLOT)
    rows[1] = replace(rows[1], status=Status.UNAVAILABLE, reason=Reason.NO_SLOT)
    rows[-1] = replace(rows[-1], detail=HOSTILE, structured=None)
    return rows


def _titre() -> list[Outcome]:
    start = NOW - timedelta(days=2)
    rows = []
    for i in range(12):
        at = start + timedelta(hours=4 * i)
        if i >= 9:
            rows.append(
                an_outcome(
                    "75/titre", at, Reason.SLOTS, slot_count=5, earliest_slot=at + timedelta(3)
                )
            )
        else:
            rows.append(an_outcome("75/titre", at, Reason.NO_SLOT))
    return rows


@dataclass
class KnownSite:
    """The outcomes recorded, per target, oldest first."""

    outcomes: dict[str, list[Outcome]]
    config_path: Path

    def in_window(self, target: str) -> list[Outcome]:
        first_day = NOW.astimezone(PARIS).date() - timedelta(days=89)
        return [o for o in self.outcomes.get(target, []) if local_day(o) >= first_day]


def local_day(outcome: Outcome) -> date:
    return outcome.started_at.astimezone(PARIS).date()


def record_known(database: Database, tmp_path: Path) -> KnownSite:
    """Record every known outcome with the state the policy would keep; write the config."""
    sequences = {
        "92/remise-titre": _remise_titre(),
        "92/naturalisation": _naturalisation(),
        "75/titre": _titre(),
    }
    for target, rows in sequences.items():
        state = TargetState(target)
        for index, outcome in enumerate(rows):
            if target == "75/titre" and index == len(rows) - 1:
                files = write_evidence(
                    database.evidence_dir, html="<html>slots</html>", screenshot=png_bytes(seed=3)
                )
                outcome = replace(outcome, evidence=files.paths, sha256=files.sha256)
            since = outcome.started_at if outcome.status != state.status else state.since
            last_available = (
                outcome.started_at
                if outcome.status is Status.AVAILABLE
                else state.last_available_at
            )
            state = replace(
                state,
                status=outcome.status,
                reason=outcome.reason,
                since=since,
                last_probe_at=outcome.started_at,
                last_available_at=last_available,
            )
            rows[index], _ = database.repository.record_outcome(
                outcome, state, [], lambda _event: ()
            )
    config = {
        "version": 1,
        "settings": {
            "database": database.url,
            "evidence_dir": str(database.evidence_dir),
            "connectivity_check": [],
            # Long enough that each target's latest status (hours old) is still observed.
            "schedule": {"interval": "6h"},
            "publish": {"licence": "Licence Ouverte 2.0 (test)"},
        },
        "prefectures": [],
    }
    prefectures: dict[str, dict[str, object]] = {}
    for code, name, local_id, procedure in TARGETS:
        entry = prefectures.setdefault(code, {"id": code, "name": name, "targets": []})
        entry["targets"].append(  # type: ignore[attr-defined]
            {
                "id": local_id,
                "name": procedure,
                "platform": "legacy-booking",
                "url": f"https://www.example-prefecture.gouv.fr/booking/create/{local_id}?token=s3cret",
            }
        )
    config["prefectures"] = list(prefectures.values())
    path = tmp_path / "prefectures.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return KnownSite(sequences, path)


# -- the figures expected, computed per attempt -----------------------------------------


def expected_hour_status(outcomes: list[Outcome]) -> dict[tuple[date, int], str]:
    """Per local (day, hour) with attempts: available if any, else the majority of
    unavailable and anomaly (ties: anomaly), else monitor_error."""
    cells: dict[tuple[date, int], Counter[Status]] = {}
    for outcome in outcomes:
        local = outcome.started_at.astimezone(PARIS)
        cells.setdefault((local.date(), local.hour), Counter())[outcome.status] += 1
    result = {}
    for key, counts in cells.items():
        if counts[Status.AVAILABLE]:
            result[key] = "available"
        elif counts[Status.UNAVAILABLE] or counts[Status.ANOMALY]:
            bigger = counts[Status.UNAVAILABLE] > counts[Status.ANOMALY]
            result[key] = "unavailable" if bigger else "anomaly"
        else:
            result[key] = "monitor_error"
    return result


def expected_days_without_slot(outcomes: list[Outcome]) -> int:
    days: dict[date, bool] = {}
    for outcome in outcomes:
        if outcome.status is Status.MONITOR_ERROR:
            continue
        day = local_day(outcome)
        days[day] = days.get(day, False) or outcome.status is Status.AVAILABLE
    return sum(1 for seen in days.values() if not seen)


def expected_anomaly_share(outcomes: list[Outcome]) -> float:
    site = [o for o in outcomes if o.status is not Status.MONITOR_ERROR]
    return sum(o.status is Status.ANOMALY for o in site) / len(site)


def french_percent(share: float) -> str:
    return f"{share * 100:.1f} %".replace(".", ",")
