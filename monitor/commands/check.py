"""`monitor check [TARGET…]`: probe now, record, print the outcomes.

Every selected target is probed once, at most ``politeness.per_host_concurrency`` at a time
per host, each outcome recorded exactly as the daemon records it (evidence, chain, state,
events). The exit code says whether the probes ran, not what the sites said: 0 even when
every site is down; 3 when no target matches; 2 for a config error; 1 when the database
cannot be used (e.g. not migrated: ``monitor db upgrade``). Nothing is migrated here.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

import click

from monitor.attempt.probe import failed, observe
from monitor.attempt.record import record
from monitor.commands.common import App, lang_option, output_options, pass_app
from monitor.config import Config, Target, select_targets
from monitor.domain import Outcome
from monitor.errors import MonitorError
from monitor.probes.engines import Engines
from monitor.reports.output import OUTCOME_FIELDS, Column, emit, outcome_rows
from monitor.store import Repository

logger = logging.getLogger(__name__)

COLUMNS = (
    Column("started_at", "Time"),
    Column("target", "Target"),
    Column("engine", "Engine"),
    Column("status", "Status"),
    Column("reason", "Reason"),
    Column("slot_count", "Slots"),
    Column("earliest_slot", "Earliest"),
    Column("detail", "Detail", max_width=80),
)


async def check_targets(
    targets: Sequence[Target],
    config: Config,
    repo: Repository,
    *,
    engines: Engines | None = None,
) -> list[Outcome]:
    """Probe and record every target once; outcomes in the order of ``targets``.

    ``engines`` is closed here unless the caller passed its own (tests read its counters).
    """
    settings = config.settings
    owned = engines is None
    pool = Engines(settings) if engines is None else engines
    per_host: defaultdict[str, asyncio.Semaphore] = defaultdict(
        lambda: asyncio.Semaphore(settings.politeness.per_host_concurrency)
    )
    timeout = settings.probe_timeout.total_seconds()

    async def one(target: Target) -> Outcome:
        async with per_host[target.host]:
            started = datetime.now(UTC)
            try:
                engine = await pool.get(target.engine)
            except MonitorError as exc:  # e.g. no Chromium: the monitor's fault
                observation = failed(target, target.engine, exc, at=started)
            else:
                observation = await observe(target, engine, timeout=timeout)
        # In a thread: evidence files are fsynced, and the loop has other probes to drive.
        return await asyncio.to_thread(
            record,
            repo,
            target,
            observation,
            settings=settings,
            channels=config.channels,
            now=datetime.now(UTC),
        )

    try:
        return list(await asyncio.gather(*(one(target) for target in targets)))
    finally:
        if owned:
            await pool.aclose()


@click.command("check")
@click.argument("patterns", nargs=-1, metavar="[TARGET]...")
@output_options()
@lang_option
@pass_app
def check_cmd(app: App, patterns: tuple[str, ...], fmt: str, lang: str | None) -> None:
    """Probe targets now (all, or ids / globs / prefecture ids), record, print the outcomes."""
    config = app.config
    targets = select_targets(config, patterns)
    from monitor.store.evidence_access import check_evidence_dir

    check_evidence_dir(config)
    repo = app.repository()
    logger.info("checking %d target(s)", len(targets))
    outcomes = asyncio.run(check_targets(targets, config, repo))
    settings = config.settings
    emit(
        outcome_rows(outcomes, fmt=fmt, language=lang or settings.language, tz=settings.tz),
        fmt=fmt,
        fields=OUTCOME_FIELDS,
        columns=COLUMNS,
        tz=config.settings.tz,
        stream=sys.stdout,
    )
