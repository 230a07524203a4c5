"""Fill a database with N realistic generated outcome rows, for benchmarks and demos.

    .venv/bin/python bench/generate.py --rows 1000000 --seed 7 var/bench.db
    .venv/bin/python bench/generate.py --rows 50000 postgresql+psycopg://u:p@host/db
    .venv/bin/python bench/generate.py --rebuild-rollup var/bench.db

The database is brought to the head migration first, then filled in one transaction.
What the rows look like (seeded, so the same arguments give the same rows):

* ``--targets`` targets over real département codes, probed every 10 minutes (with a
  little jitter) up to the start of the current hour, rows interleaved in time order the
  way the daemon writes them, so ids follow time;
* mostly ``unavailable/no_slot`` (some targets say ``no_calendar``, form targets
  ``closed``); anomalies of varied reasons: timeouts, HTTP errors, overload bursts on
  weekday mornings, a weekly night maintenance on some targets, captcha walls on the
  ``rdv-prefecture`` targets; rare ``available`` spells of 1 to 6 probes with a slot
  count and an earliest slot 2 to 100 days ahead; a few monitor-wide ``network_down``
  outages;
* the ``outcome_hours`` rollup of ``monitor stats`` rebuilt from the rows in the same
  transaction (``rebuild_rollup``, the statement migration 0003 backfills with); with
  ``--rebuild-rollup`` alone, an existing database is brought to head (an older one is
  backfilled by migration 0003) and its rollup rebuilt, nothing generated;
* content-addressed evidence paths shared between identical pages (no file is written:
  ``verify`` reports them missing), the evidence digest and a real hash chain per target,
  and each target's state row with its chain head.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from monitor.domain import Engine, Outcome, Reason, Status, TargetState, status_of
from monitor.store import create_engine_for, current_revision, head_revision, upgrade
from monitor.store.evidence import chain_hash, evidence_digest
from monitor.store.rollup import rebuild_rollup
from monitor.store.rows import (
    outcome_hours,
    outcome_values,
    outcomes,
    state_values,
    target_states,
)

CADENCE = timedelta(minutes=10)
BATCH = 5_000
PARIS = ZoneInfo("Europe/Paris")

PREFECTURES = (
    "92", "93", "94", "75", "95", "91", "78", "77", "69", "13",
    "31", "33", "59", "67", "44", "06", "34", "35", "38", "76",
)  # fmt: skip
SLUGS = ("remise-titre", "premiere-demande", "renouvellement", "naturalisation", "accueil")

NO_SLOT = (
    "Il n'existe plus de plage horaire libre pour votre demande de rendez-vous. "
    "Veuillez recommencer ultérieurement."
)
DETAILS: dict[Reason, str] = {
    Reason.SLOTS: "{count} créneaux proposés, le premier le {first}",
    Reason.NO_SLOT: NO_SLOT,
    Reason.NO_CALENDAR: "Aucun guichet n'est ouvert à la prise de rendez-vous.",
    Reason.CLOSED: "Cette démarche est close.",
    Reason.CAPTCHA: "Veuillez saisir les caractères de l'image pour continuer.",
    Reason.MAINTENANCE: "Le service est momentanément indisponible pour maintenance.",
    Reason.OVERLOADED: "Service surchargé, veuillez réessayer plus tard (HTTP 503)",
    Reason.HTTP_ERROR: "Erreur HTTP 500",
    Reason.TIMEOUT: "Pas de réponse complète en 45 s",
    Reason.CONNECTION: "Connexion refusée par le serveur",
    Reason.BLOCKED: "Accès refusé (HTTP 403)",
    Reason.SESSION_LOST: "Renvoyé à la première étape au milieu de la démarche",
    Reason.EMPTY_PAGE: "La page reçue est vide",
    Reason.UNRECOGNIZED: "Aucune règle ne reconnaît cette page",
    Reason.NETWORK_DOWN: "Le moniteur n'a plus accès au réseau",
    Reason.BROWSER_CRASH: "Chromium s'est arrêté pendant la sonde",
}
HTTP_STATUS: dict[Reason, int | None] = {
    Reason.OVERLOADED: 503,
    Reason.HTTP_ERROR: 500,
    Reason.BLOCKED: 403,
    Reason.TIMEOUT: None,
    Reason.CONNECTION: None,
    Reason.NETWORK_DOWN: None,
    Reason.BROWSER_CRASH: None,
}
#: Occasional anomalies of a healthy site, with their probability per probe.
RANDOM_ANOMALIES = (
    (Reason.TIMEOUT, 0.015),
    (Reason.HTTP_ERROR, 0.006),
    (Reason.CONNECTION, 0.003),
    (Reason.SESSION_LOST, 0.003),
    (Reason.EMPTY_PAGE, 0.002),
    (Reason.BLOCKED, 0.001),
    (Reason.UNRECOGNIZED, 0.001),
)


@dataclass
class SimulatedTarget:
    """One generated target and what its simulation remembers between probes."""

    target: str
    prefecture: str
    platform: str
    url: str
    engine: Engine
    quiet_reason: Reason  #: what the site says when there is nothing
    slot_rate: float  #: chance per probe that slots open
    night_maintenance: bool
    open_left: int = 0  #: probes left in the current available spell
    slot_count: int = 0
    earliest_days: int = 0
    chain: str | None = None
    last: Outcome | None = None
    pages: dict[tuple[Reason, int], tuple[str, ...]] = field(default_factory=dict)


def make_targets(count: int, rng: random.Random) -> list[SimulatedTarget]:
    """``count`` distinct targets, a tenth of them rdv-prefecture, a few form targets."""
    made: list[SimulatedTarget] = []
    for index in range(count):
        prefecture = PREFECTURES[index % len(PREFECTURES)]
        slug = SLUGS[(index // len(PREFECTURES)) % len(SLUGS)]
        if index >= len(PREFECTURES) * len(SLUGS):
            slug = f"{slug}-{index}"
        platform = "legacy-booking"
        engine = Engine.HTTP
        url = f"https://www.pref{prefecture}.gouv.fr/booking/create/{12000 + index}"
        quiet = Reason.NO_CALENDAR if rng.random() < 0.15 else Reason.NO_SLOT
        if index % 10 == 9:
            platform, engine = "rdv-prefecture", Engine.BROWSER
            url = (
                "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/"
                f"{3000 + index}/cgu/"
            )
        elif index % 17 == 16:
            platform, quiet = "demarches-simplifiees", Reason.CLOSED
            url = f"https://www.demarches-simplifiees.fr/commencer/pref-{prefecture}-{slug}"
        made.append(
            SimulatedTarget(
                target=f"{prefecture}/{slug}",
                prefecture=prefecture,
                platform=platform,
                url=url,
                engine=engine,
                quiet_reason=quiet,
                # Some targets practically never open, a few open now and then.
                slot_rate=rng.choice((0.0, 0.0002, 0.0005, 0.001, 0.003)),
                night_maintenance=rng.random() < 0.3,
            )
        )
    return made


def outages(start: datetime, end: datetime, rng: random.Random) -> list[tuple[datetime, datetime]]:
    """Monitor-wide network outages: about one every 20 days, 20 to 90 minutes long."""
    found = []
    moment = start
    while True:
        moment += timedelta(days=rng.uniform(5, 35))
        if moment >= end:
            return found
        found.append((moment, moment + timedelta(minutes=rng.randint(20, 90))))


def page_paths(sim: SimulatedTarget, reason: Reason, variant: int) -> tuple[str, ...]:
    """Content-addressed evidence paths, shared by every probe that saw the same page."""
    key = (reason, variant)
    if key not in sim.pages:
        paths = []
        extensions = ("html", "png") if sim.engine is Engine.BROWSER else ("html",)
        for extension in extensions:
            digest = hashlib.sha256(
                f"{sim.target}|{reason}|{variant}|{extension}".encode()
            ).hexdigest()
            paths.append(f"{digest[:2]}/{digest}.{extension}")
        sim.pages[key] = tuple(sorted(paths))
    return sim.pages[key]


def choose(
    sim: SimulatedTarget, at: datetime, down: bool, rng: random.Random
) -> tuple[Reason, int | None, datetime | None]:
    """The reason of one probe (with slot_count and earliest_slot when slots are shown)."""
    if down:
        return Reason.NETWORK_DOWN, None, None
    if rng.random() < 0.001:
        return (
            (Reason.BROWSER_CRASH if sim.engine is Engine.BROWSER else Reason.INTERNAL),
            None,
            None,
        )
    local = at.astimezone(PARIS)
    if sim.night_maintenance and local.weekday() == 6 and 1 <= local.hour < 3:
        return Reason.MAINTENANCE, None, None
    if sim.platform == "rdv-prefecture" and rng.random() < 0.95:
        return Reason.CAPTCHA, None, None
    if local.weekday() < 5 and 8 <= local.hour < 10 and rng.random() < 0.08:
        return Reason.OVERLOADED, None, None
    if sim.open_left == 0 and rng.random() < sim.slot_rate:
        sim.open_left = rng.randint(1, 6)
        sim.slot_count = rng.randint(1, 15)
        sim.earliest_days = int(rng.choice((2, 5, 12, 25, 40, 55, 75, 100)))
    if sim.open_left > 0:
        sim.open_left -= 1
        sim.slot_count = max(1, sim.slot_count - rng.randint(0, 3))
        day = (at + timedelta(days=sim.earliest_days)).replace(minute=0, second=0, microsecond=0)
        return Reason.SLOTS, sim.slot_count, day.replace(hour=8)
    roll = rng.random()
    for reason, chance in RANDOM_ANOMALIES:
        if roll < chance:
            return reason, None, None
        roll -= chance
    return sim.quiet_reason, None, None


def make_outcome(sim: SimulatedTarget, at: datetime, down: bool, rng: random.Random) -> Outcome:
    """One probe's outcome for ``sim`` started at ``at``."""
    reason, slot_count, earliest = choose(sim, at, down, rng)
    status = status_of(reason)
    duration = 45_000 if reason is Reason.TIMEOUT else rng.randint(700, 4_000)
    detail = DETAILS.get(reason, reason.value)
    if reason is Reason.SLOTS and earliest is not None:
        detail = detail.format(
            count=slot_count, first=earliest.astimezone(PARIS).strftime("%d/%m/%Y")
        )
    http_status = HTTP_STATUS.get(reason, 200)
    evidence: tuple[str, ...] = ()
    if status is not Status.MONITOR_ERROR and reason not in (Reason.TIMEOUT, Reason.CONNECTION):
        variant = rng.randint(0, 50) if reason is Reason.SLOTS else rng.randint(0, 2)
        evidence = page_paths(sim, reason, variant)
    return Outcome(
        target=sim.target,
        prefecture=sim.prefecture,
        started_at=at,
        finished_at=at + timedelta(milliseconds=duration),
        engine=sim.engine,
        status=status,
        reason=reason,
        detail=detail,
        url=sim.url,
        final_url=None
        if http_status is None
        else sim.url + ("/1" if status is Status.UNAVAILABLE else ""),
        http_status=http_status,
        slot_count=slot_count,
        earliest_slot=earliest,
        evidence=evidence,
        sha256=evidence_digest(evidence),
    )


def generate(
    url: str, rows: int, *, seed: int = 7, targets: int = 50, end: datetime | None = None
) -> dict[str, Any]:
    """Migrate the database at ``url`` and insert ``rows`` outcomes; returns a summary."""
    rng = random.Random(seed)
    sims = make_targets(targets, rng)
    steps = -(-rows // len(sims))
    end = end or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - CADENCE * steps
    down_windows = outages(start, end, rng)
    upgrade(url)
    engine = create_engine_for(url)
    began = time.perf_counter()
    written = 0
    try:
        with engine.begin() as connection:
            batch: list[dict[str, Any]] = []
            window = 0
            for step in range(steps):
                tick = start + CADENCE * step
                while window < len(down_windows) and down_windows[window][1] < tick:
                    window += 1
                down = window < len(down_windows) and down_windows[window][0] <= tick
                for sim in sims:
                    if written >= rows:
                        break
                    at = tick + timedelta(
                        seconds=rng.uniform(0, 120), microseconds=rng.randint(0, 999_999)
                    )
                    outcome = make_outcome(sim, at, down, rng)
                    sim.chain = chain_hash(sim.chain, outcome)
                    sim.last = outcome
                    batch.append(outcome_values(outcome, chain=sim.chain))
                    written += 1
                if len(batch) >= BATCH:
                    connection.execute(insert(outcomes), batch)
                    batch.clear()
            if batch:
                connection.execute(insert(outcomes), batch)
            rebuild_rollup(connection)
            last_ids = dict(
                connection.execute(
                    select(outcomes.c.target, func.max(outcomes.c.id)).group_by(outcomes.c.target)
                ).all()
            )
            for sim in sims:
                if sim.last is None:
                    continue
                state = TargetState(
                    target=sim.target,
                    status=sim.last.status,
                    reason=sim.last.reason,
                    since=sim.last.started_at,
                    last_probe_at=sim.last.finished_at,
                    streak=1,
                )
                connection.execute(
                    insert(target_states).values(
                        target=sim.target,
                        chain_head=sim.chain,
                        last_outcome_id=last_ids[sim.target],
                        **state_values(state),
                    )
                )
    finally:
        engine.dispose()
    return {
        "rows": written,
        "targets": len(sims),
        "first": start.isoformat(),
        "end": end.isoformat(),
        "seconds": round(time.perf_counter() - began, 1),
    }


def rebuild(url: str) -> dict[str, Any]:
    """Bring the database at ``url`` to head and make its rollup match its outcomes.

    A database behind head gets the rollup from migration 0003's backfill; one at head has
    it rebuilt (in one transaction). Returns the rollup's row count and the time taken.
    """
    began = time.perf_counter()
    backfilled = current_revision(url) != head_revision()
    if backfilled:
        upgrade(url)
    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            if backfilled:
                rows = connection.execute(select(func.count()).select_from(outcome_hours)).scalar()
            else:
                rows = rebuild_rollup(connection)
    finally:
        engine.dispose()
    return {"rollup_rows": rows, "seconds": round(time.perf_counter() - began, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database", help="a SQLite file path or a database URL")
    parser.add_argument("--rows", type=int, default=100_000, help="how many outcome rows")
    parser.add_argument("--seed", type=int, default=7, help="random seed (same seed, same rows)")
    parser.add_argument("--targets", type=int, default=50, help="how many targets")
    parser.add_argument(
        "--rebuild-rollup",
        action="store_true",
        help="generate nothing: bring DATABASE to head and rebuild its stats rollup",
    )
    args = parser.parse_args(argv)
    url = args.database if "://" in args.database else f"sqlite:///{Path(args.database)}"
    if args.rebuild_rollup:
        done = rebuild(url)
        print(f"{done['rollup_rows']} rollup rows in {done['seconds']} s", file=sys.stderr)
        return 0
    summary = generate(url, args.rows, seed=args.seed, targets=args.targets)
    print(
        f"{summary['rows']} rows for {summary['targets']} targets from {summary['first']} "
        f"to {summary['end']} in {summary['seconds']} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
