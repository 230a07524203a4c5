"""`monitor status [TARGET…] [--heartbeat] [--format …]`: where every target stands.

Per target (the config's targets joined with the stored states, so a target never probed
shows as such): status and reason, since when, last probe, streak, and whether an anomaly
or an opening is announced. ``--heartbeat`` instead prints one line about the latest
heartbeat, then one per daemon node with its own last beat, and exits 1 when the latest is
missing or older than 3× the smallest interval (for the Dockerfile HEALTHCHECK and
systemd).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import click

from monitor.commands.common import App, lang_option, output_options, pass_app
from monitor.reports.output import Column, detail_fields, emit

if TYPE_CHECKING:
    from monitor.domain import TargetState

#: Field names of the machine formats, in order.
STATUS_FIELDS = (
    "target",
    "prefecture",
    "name",
    "status",
    "reason",
    "since",
    "last_probe",
    "streak",
    "anomaly_open",
    "slots_open",
    "next_probe",
    "detail",
    "detail_code",
    "detail_args",
)
COLUMNS = (
    Column("target", "TARGET", 40),
    Column("status", "STATUS"),
    Column("reason", "REASON"),
    Column("since", "SINCE"),
    Column("last_probe", "LAST PROBE"),
    Column("streak", "STREAK"),
    Column("alerts", "ALERTS"),
    Column("detail", "DETAIL", 70),
)
NEVER = "never probed"


@click.command("status")
@click.argument("patterns", metavar="[TARGET]...", nargs=-1)
@click.option(
    "--heartbeat",
    is_flag=True,
    help="Only check the daemon's heartbeat: exit 1 if missing or older than 3× the "
    "smallest interval.",
)
@output_options()
@lang_option
@pass_app
def status_cmd(
    app: App, patterns: tuple[str, ...], heartbeat: bool, fmt: str, lang: str | None
) -> None:
    """Each target's current status and reason, since when, last probe and streak, and the
    latest probe's detail (in a table, in settings.language or --lang)."""
    if heartbeat:
        sys.exit(_heartbeat(app))
    from monitor.config import select_targets

    config = app.config
    targets = select_targets(config, patterns)
    repository = app.repository()
    states = {state.target: state for state in repository.states()}
    backoffs = repository.next_probes()
    latest = repository.latest_outcomes([target.id for target in targets])
    tz = config.settings.tz
    language = lang or config.settings.language
    now = datetime.now(UTC)

    def rows() -> Iterator[dict[str, object]]:
        for target in targets:
            state = states.get(target.id)
            probed = state is not None and state.last_probe_at is not None
            next_probe = backoffs.get(target.id)
            alerts = []
            if state is not None and state.anomaly_open:
                alerts.append("anomaly open")
            if state is not None and state.slots_open:
                alerts.append("slots open")
            if next_probe is not None and next_probe > now:
                alerts.append("backing off")
            outcome = latest.get(target.id)
            yield {
                "target": target.id,
                "prefecture": target.prefecture,
                "name": target.name,
                "status": state.status if probed and state is not None else None,
                "reason": state.reason if probed and state is not None else None,
                "since": state.since if state is not None else None,
                "last_probe": state.last_probe_at if state is not None else None,
                "streak": state.streak if probed and state is not None else 0,
                "anomaly_open": bool(state and state.anomaly_open),
                "slots_open": bool(state and state.slots_open),
                "next_probe": next_probe,
                "alerts": ", ".join(alerts),
                **detail_fields(outcome, fmt=fmt, language=language, tz=tz),
            }

    table_rows: Sequence[dict[str, object]] = list(rows())
    if fmt == "table":
        for row in table_rows:
            if row["status"] is None:
                row["status"] = NEVER
    emit(table_rows, fmt=fmt, fields=STATUS_FIELDS, columns=COLUMNS, tz=tz, stream=sys.stdout)
    if fmt == "table":
        _monitor_line(states, tz_name=config.settings.timezone)


def _monitor_line(states: Mapping[str, TargetState], *, tz_name: str) -> None:
    """A last line about the monitor itself when its own-fault guard is on."""
    from zoneinfo import ZoneInfo

    from monitor.domain import MONITOR_TARGET

    state = states.get(MONITOR_TARGET)
    if state is not None and state.anomaly_open and state.anomaly_since:
        since = state.anomaly_since.astimezone(ZoneInfo(tz_name)).strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"\nmonitor: degraded (own network down) since {since}")


def smallest_interval(app: App) -> timedelta:
    """The smallest interval of the enabled targets (the schedule's default if none)."""
    config = app.config
    intervals = [target.interval for target in config.targets()]
    return min(intervals, default=config.settings.schedule.interval)


def _heartbeat(app: App) -> int:
    from monitor.config.durations import format_duration
    from monitor.daemon.health import heartbeat_is_stale, stale_after

    smallest = smallest_interval(app)
    limit = stale_after(smallest)
    repository = app.repository()
    last = repository.last_beat()
    now = datetime.now(UTC)
    if last is None:
        click.echo("heartbeat missing: no daemon has run on this database")
        return 1
    age = timedelta(seconds=round((now - last).total_seconds()))
    stale = heartbeat_is_stale(last, now=now, smallest_interval=smallest)
    word = "stale" if stale else "ok"
    click.echo(
        f"heartbeat {word}: last beat {format_duration(max(age, timedelta(0)))} ago "
        f"at {last.isoformat()} (stale after {format_duration(limit)})"
    )
    for beat in repository.nodes():  # every node of a fleet, or the one daemon
        node_age = timedelta(seconds=round((now - beat.beat_at).total_seconds()))
        node_word = "stale" if now - beat.beat_at > limit else "ok"
        ago = format_duration(max(node_age, timedelta(0)))
        click.echo(
            f"  node {beat.node}: {node_word}, last beat {ago}"
            f" ago (pid {beat.pid}, version {beat.version}, up since {beat.started_at.isoformat()})"
        )
    return 1 if stale else 0
