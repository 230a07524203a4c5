"""Learned release windows against today's even schedule, at the same weekly budget (issue 28).

    .venv/bin/python bench/release_windows.py                    # every shape, a seed: ~10 s of CPU
    .venv/bin/python bench/release_windows.py --csv watched.csv  # a timeline watched by hand
    .venv/bin/python bench/release_windows.py --end-to-end       # + the real daemon, mail

**The replay** (the default). Each timeline (bench/release_timelines.py: named shapes of
weekly batches and short cancellations, seeds fixed, or ``local time,free slots`` CSV
files) is replayed against three schedules of one target, probe by probe
(bench/release_replay.py):

* ``even``: today's daemon, the grid of :mod:`monitor.daemon.cadence` (``interval`` with
  its ``jitter``, in ``active_hours``);
* ``even plan``: :func:`monitor.daemon.focus.even_plan`, what ``focus: learned`` starts from;
* ``learned``: :func:`monitor.daemon.focus.learned_plan`, computed again every local
  midnight from the ``slots_opened`` times the simulated monitor itself recorded so far
  and the times of its probes (the hours it watched, as ``Repository.watched_hours``).

The first ``--learn-weeks`` weeks are for learning (every schedule runs through them); the
next ``--weeks`` are measured: the short-lived openings (shorter than ``--short``) caught
by a probe, the delay from each longer opening's start (a batch release) to the first probe
that saw it (the alert), and the probes spent. The seeds of a shape are added up.

**The end-to-end run** (``--end-to-end``): bench/release_e2e.py.

Nothing here touches the internet; the end-to-end run uses 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from release_replay import CadenceSchedule, Measured, ProbeSchedule, Replan, measure, replay
from release_timelines import SHAPES, Timeline, TimelineError, generate, parse_csv, to_csv

from monitor.config.durations import (
    ActiveHours,
    format_duration,
    parse_active_hours,
    parse_duration,
    parse_jitter,
)
from monitor.daemon.focus import even_plan, learned_plan, phase_of

#: Each timeline's target is named after it, so that the grid's phase (a hash of the id, as
#: in the daemon) differs between seeds instead of favouring or hurting every run alike.
TARGET = "75/titre-sejour"
SCHEDULES = ("even", "even plan", "learned")


@dataclass(frozen=True)
class Settings:
    interval: timedelta
    jitter_text: str
    active_hours: ActiveHours | None
    min_interval: timedelta
    max_interval: timedelta
    zone: ZoneInfo
    learn_weeks: int
    short: timedelta


def schedules(settings: Settings, target: str = TARGET) -> dict[str, Replan]:
    """Each schedule of ``target`` as its replan function (see release_replay.Replan)."""
    jitter = parse_jitter(settings.jitter_text)
    phase = phase_of(target)
    grid = CadenceSchedule.of(
        target, settings.interval, jitter, settings.active_hours, settings.zone
    )
    plan = even_plan(
        interval=settings.interval,
        active_hours=settings.active_hours,
        zone=settings.zone,
        phase=phase,
    )

    def even(
        opened: Sequence[datetime], probed: Sequence[datetime], now: datetime
    ) -> ProbeSchedule:
        return grid

    def even_planned(
        opened: Sequence[datetime], probed: Sequence[datetime], now: datetime
    ) -> ProbeSchedule:
        return plan

    def learned(
        opened: Sequence[datetime], probed: Sequence[datetime], now: datetime
    ) -> ProbeSchedule:
        return learned_plan(
            opened,
            (),
            interval=settings.interval,
            active_hours=settings.active_hours,
            zone=settings.zone,
            min_interval=settings.min_interval,
            max_interval=settings.max_interval,
            now=now,
            phase=phase,
            own_probed=probed,
        )

    return {"even": even, "even plan": even_planned, "learned": learned}


def run_timeline(timeline: Timeline, settings: Settings) -> dict[str, Measured]:
    since = timeline.start + timedelta(weeks=settings.learn_weeks)
    if since >= timeline.end:
        days = (timeline.end - timeline.start) / timedelta(days=1)
        raise TimelineError(
            f"{timeline.name}: covers {days:.1f} days; --learn-weeks {settings.learn_weeks} "
            "leaves nothing to measure: lower --learn-weeks or give a longer timeline"
        )
    found: dict[str, Measured] = {}
    for name, replan in schedules(settings, f"{TARGET}/{timeline.name}").items():
        walked = replay(timeline, replan)
        found[name] = measure(timeline, walked.probes, since=since, short=settings.short)
    return found


# -- the table --------------------------------------------------------------------------------


def _minutes(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds / 60:.1f} min"


def _share(part: int, whole: int) -> str:
    return "-" if not whole else f"{part}/{whole} ({100 * part / whole:.0f} %)"


def _times(ratio: float) -> str:
    return "-" if math.isnan(ratio) else f"{ratio:.2f}×"


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def table(results: dict[str, dict[str, Measured]]) -> list[str]:
    lines = [
        _row(
            (
                "timeline",
                "schedule",
                "probes a week",
                "short-lived caught",
                "release → first probe seeing it: median",
                "p95",
                "releases missed",
            )
        ),
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, by_schedule in results.items():
        for schedule, m in by_schedule.items():
            cells = (
                name,
                schedule,
                f"{m.probes_per_week:.0f}",
                _share(m.short_caught, m.short_total),
                _minutes(m.median_delay),
                _minutes(m.p95_delay),
                f"{m.releases_missed}/{m.releases}",
            )
            lines.append(_row(cells))
    return lines


def verdicts(results: dict[str, dict[str, Measured]]) -> list[str]:
    """learned against even, per timeline: the issue's two goals, at the probes spent."""
    lines = [
        _row(
            (
                "timeline",
                "probes, learned ÷ even",
                "median release delay, even ÷ learned (goal ≥ 2)",
                "short-lived caught, learned ÷ even (goal ≥ 1.5)",
                "both goals",
            )
        ),
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for name, by_schedule in results.items():
        even, learned = by_schedule["even"], by_schedule["learned"]
        spent = learned.probes / even.probes if even.probes else math.nan
        faster = even.median_delay / learned.median_delay if learned.median_delay else math.inf
        caught = learned.short_caught / even.short_caught if even.short_caught else math.nan
        met = faster >= 2 and caught >= 1.5 and spent <= 1.005
        cells = (
            name,
            f"{spent:.3f}",
            f"{faster:.2f}×",
            f"{caught:.2f}×",
            "met" if met else "missed",
        )
        lines.append(_row(cells))
    return lines


# -- the command ------------------------------------------------------------------------------


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _hours(text: str) -> ActiveHours | None:
    if text in ("", "none"):
        return None
    try:
        return parse_active_hours(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _zone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time zone, e.g. Europe/Paris"
        ) from None


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--shapes",
        nargs="*",
        default=list(SHAPES),
        choices=list(SHAPES),
        metavar="SHAPE",
        help=f"generated shapes (default all: {', '.join(SHAPES)}; none with --shapes alone)",
    )
    parser.add_argument("--seeds", type=int, default=1, help="seeds per shape, 1..N (default 1)")
    parser.add_argument(
        "--csv",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="a timeline of 'local time,free slots' rows (repeatable)",
    )
    parser.add_argument(
        "--learn-weeks", type=int, default=4, help="weeks of learning before measuring (4)"
    )
    parser.add_argument("--weeks", type=int, default=6, help="weeks measured, generated shapes (6)")
    parser.add_argument("--interval", type=_duration, default=timedelta(minutes=15))
    parser.add_argument("--jitter", default="20%", help="the even grid's jitter (20%%)")
    parser.add_argument(
        "--active-hours",
        type=_hours,
        default=None,
        help="HH:MM-HH:MM, or none (default: around the clock)",
    )
    parser.add_argument("--min-interval", type=_duration, default=timedelta(minutes=2))
    parser.add_argument("--max-interval", type=_duration, default=timedelta(hours=2))
    parser.add_argument(
        "--short",
        type=_duration,
        default=timedelta(minutes=30),
        help="an opening shorter than this is short-lived (30m)",
    )
    parser.add_argument("--timezone", type=_zone, default=ZoneInfo("Europe/Paris"))
    parser.add_argument(
        "--export", type=Path, metavar="DIR", help="write each generated timeline as CSV there"
    )
    parser.add_argument("--out", type=Path, help="also write the tables (markdown) to this file")
    parser.add_argument(
        "--end-to-end",
        action="store_true",
        help="then the real daemon on the imitation, time compressed, mail on loopback",
    )
    parser.add_argument("--e2e-shape", default="monday-thursday", choices=list(SHAPES))
    parser.add_argument(
        "--e2e-days", type=float, default=7.0, help="simulated days of the end-to-end run (7)"
    )
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.learn_weeks < 0 or args.weeks < 1:
        parser.error("--seeds and --weeks must be at least 1, --learn-weeks at least 0")
    try:
        parse_jitter(args.jitter)
    except ValueError as error:
        parser.error(f"--jitter: {error}")
    if not args.min_interval <= args.interval <= args.max_interval:
        parser.error("--interval must lie between --min-interval and --max-interval")
    return args


def timelines(args: argparse.Namespace) -> list[Timeline]:
    found: list[Timeline] = []
    for name in args.shapes:
        for seed in range(1, args.seeds + 1):
            found.append(
                generate(
                    SHAPES[name], weeks=args.learn_weeks + args.weeks, seed=seed, zone=args.timezone
                )
            )
    for path in args.csv:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise TimelineError(f"{path}: cannot be read: {error}") from None
        found.append(parse_csv(text, source=str(path), zone=args.timezone))
    if not found and not args.end_to_end:
        raise TimelineError("no timeline: give --shapes NAME… or --csv FILE")
    return found


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments(argv)
    settings = Settings(
        interval=args.interval,
        jitter_text=args.jitter,
        active_hours=args.active_hours,
        min_interval=args.min_interval,
        max_interval=args.max_interval,
        zone=args.timezone,
        learn_weeks=args.learn_weeks,
        short=args.short,
    )
    began = time.monotonic()
    try:
        all_timelines = timelines(args)
        results: dict[str, dict[str, Measured]] = {}
        for timeline in all_timelines:
            if args.export is not None and timeline.name.endswith(")"):
                name = timeline.name.replace(" (seed ", "-seed").rstrip(")")
                write_atomically(args.export / f"{name}.csv", to_csv(timeline))
            measured = run_timeline(timeline, settings)
            key = timeline.name.split(" (seed")[0]
            if key in results:
                results[key] = {s: results[key][s] + measured[s] for s in measured}
            else:
                results[key] = measured
    except TimelineError as error:
        print(f"release_windows: {error}", file=sys.stderr)
        return 2
    hours = (
        "around the clock" if settings.active_hours is None else f"active hours {args.active_hours}"
    )
    head = [
        f"interval {format_duration(args.interval)}, jitter {args.jitter}, {hours}, "
        f"min_interval {format_duration(args.min_interval)}, "
        f"max_interval {format_duration(args.max_interval)}, "
        f"zone {args.timezone.key}",
        f"{args.learn_weeks} weeks learned, then {args.weeks} weeks measured "
        f"(CSV timelines: the rest of the file); shapes × {args.seeds} seeds; "
        f"short-lived: under {format_duration(args.short)}",
        f"replayed in {time.monotonic() - began:.1f} s",
        "",
    ]
    body = [*head, *table(results), "", *verdicts(results), ""] if results else []
    if args.end_to_end:
        from release_e2e import end_to_end

        body += end_to_end(settings, shape=SHAPES[args.e2e_shape], days=args.e2e_days)
    text = "\n".join(body)
    print(text)
    if args.out is not None:
        write_atomically(args.out, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
