"""``monitor publish``: the whole static site, written atomically.

The site is built in a new sibling directory ``.<name>.<time>-<random>``; then ``OUTDIR``,
a symbolic link, is switched to it with one ``rename`` (atomic on POSIX): a reader or a
web server following ``OUTDIR`` sees the old site or the new one, never half of one. The
previous generation is kept (a download in progress may still read it), older ones are
removed: only generations this command made, each marked by a ``.monitor-publish`` file
written in it when it is created, and named as it names them. Anything else beside
``OUTDIR`` (a user's ``.public.backup``) is never touched. Layout::

    index.html                               every target, sortable and filterable
    targets/<prefecture>/<target>.html       one page per target
    data.html                                the open data and its fields
    data/all.csv, all.json                   daily aggregates of every target
    data/departements/<prefecture>.csv|json  … of a département's targets
    data/targets/<prefecture>/<target>.csv|json
    data/schema.json                         the fields (Frictionless Table Schema), licence
    data/current.csv, current.json           each target's current status (not_observed…)
    shots/<sha256>.png                       the latest screenshot of each target

Every page is rendered by Jinja2 with autoescape on: what a page said is text, never markup;
and every printed value goes through ``without_controls`` first: a page's terminal escapes
or bidi overrides are shown as U+FFFD, never passed on.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from monitor import __version__
from monitor.config import Target
from monitor.details import render_outcome
from monitor.errors import UsageError
from monitor.publish import opendata
from monitor.publish.chart import COLOURS, timeline
from monitor.publish.current import CURRENT_FIELDS, current_csv, current_json, current_rows
from monitor.publish.pages import TargetPage, Window, collect, window_of
from monitor.publish.week_grid import (
    LEVEL_COLOURS,
    LEVELS,
    NOT_PROBED_COLOUR,
    PROBED_COLOUR,
    week_grid,
)
from monitor.publish.words import words
from monitor.reports.output import without_controls
from monitor.reports.stats import humanize_duration, percent
from monitor.reports.week_hours import WEEKDAY_NAMES, WEEKDAYS
from monitor.store.evidence import verify_file
from monitor.store.ports import StatusReads

log = logging.getLogger(__name__)

#: The "when slots appeared" picture's fills, by CSS class (monitor.publish.week_grid).
WEEK_COLOURS = {
    "none": NOT_PROBED_COLOUR,
    "l0": PROBED_COLOUR,
    **{f"l{level}": colour for level, colour in enumerate(LEVEL_COLOURS, start=1)},
}

#: The file that marks a directory as a generation ``publish`` made (and may remove).
MARKER = ".monitor-publish"
_MARKER_TEXT = "A generation of the site written by `monitor publish`; it removes it when old.\n"


@dataclass(frozen=True)
class SiteOptions:
    language: str
    licence: str | None
    tz: ZoneInfo
    evidence_dir: Path
    #: settings.probe_timeout: how late a due outcome may be before "not observed"
    grace: timedelta = timedelta(seconds=45)


@dataclass(frozen=True)
class Publication:
    """What one publication wrote."""

    path: Path  #: OUTDIR (the link)
    generation: Path  #: the directory it now points to
    targets: int
    seconds: float


def publish(
    targets: Sequence[Target],
    repository: StatusReads,
    out: Path,
    options: SiteOptions,
    *,
    now: datetime | None = None,
) -> Publication:
    """Read the figures, write the site beside ``out``, switch ``out`` to it."""
    started = time.monotonic()
    now = now or datetime.now(UTC)
    window = window_of(now, options.tz)
    pages = collect(targets, repository, tz=options.tz, window=window, grace=options.grace)
    check_destination(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    stamp = now.strftime("%Y%m%dT%H%M%S")
    generation = out.parent / f".{out.name}.{stamp}-{secrets.token_hex(3)}"
    generation.mkdir()
    try:
        (generation / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
        write_site(generation, pages, options, window)
        switch(out, generation)
    except BaseException:
        shutil.rmtree(generation, ignore_errors=True)
        raise
    remove_old_generations(out, keep={generation.name})
    return Publication(out, generation, len(pages), time.monotonic() - started)


def check_destination(out: Path) -> None:
    """``out`` must be absent, an empty directory, or a link this command made."""
    if out.is_symlink() or not out.exists():
        return
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()
        return
    raise UsageError(
        f"{out} exists and is not a site made by monitor publish (which makes OUTDIR a "
        f"symbolic link to its latest generation); give a new path or remove it"
    )


def switch(out: Path, generation: Path) -> None:
    """Point the link ``out`` at ``generation`` with one atomic rename."""
    link = out.parent / f".{out.name}.link-{secrets.token_hex(4)}"
    os.symlink(generation.name, link)
    try:
        os.replace(link, out)
    except BaseException:
        link.unlink(missing_ok=True)
        raise


def own_generations(out: Path) -> list[Path]:
    """The generations of ``out`` this command made: named as it names them, not a link,
    with its marker file; newest first."""
    named = re.compile(rf"\.{re.escape(out.name)}\.\d{{8}}T\d{{6}}-[0-9a-f]{{6}}")
    found = [
        p
        for p in out.parent.iterdir()
        if named.fullmatch(p.name)
        and p.is_dir()
        and not p.is_symlink()
        and (p / MARKER).is_file()
        and not (p / MARKER).is_symlink()
    ]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def remove_old_generations(out: Path, *, keep: set[str]) -> None:
    """Remove own generations other than the current one and the one before it."""
    generations = own_generations(out)
    previous = [p for p in generations if p.name not in keep][:1]
    for old in generations:
        if old.name in keep or old in previous:
            continue
        shutil.rmtree(old, ignore_errors=True)


# -- rendering --------------------------------------------------------------------------


def environment(options: SiteOptions) -> Environment:
    """Jinja2 with autoescape on for every template, and the site's filters."""
    env = Environment(
        loader=PackageLoader("monitor.publish", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_shown,
    )
    lang, tz = options.language, options.tz
    pattern = "%d/%m/%Y %H:%M" if lang == "fr" else "%Y-%m-%d %H:%M"

    def moment(value: datetime | None) -> str:
        return "" if value is None else value.astimezone(tz).strftime(pattern)

    def iso(value: datetime | None) -> str:
        return "" if value is None else value.astimezone(UTC).isoformat(timespec="seconds")

    def share(value: float | None) -> str:
        text = percent(value)
        return text.replace(".", ",") if lang == "fr" else text

    def duration(value: timedelta | None) -> str:
        return "" if value is None else humanize_duration(value, lang)

    env.filters.update(moment=moment, iso=iso, share=share, duration=duration)
    return env


def _shown(value: Any) -> Any:
    """Every value a template prints: text with its control characters replaced (a page's
    terminal escapes, bidi overrides), before autoescape; markup stays markup."""
    if isinstance(value, Markup):
        return Markup(without_controls(value))
    return without_controls(value) if isinstance(value, str) else value


def write_site(
    directory: Path, pages: list[TargetPage], options: SiteOptions, window: Window
) -> None:
    """Every page, data file and screenshot of the site into ``directory``."""
    env = environment(options)
    w = words(options.language)
    common: dict[str, Any] = {
        "lang": options.language,
        "w": w,
        "generated": window.now,
        "timezone": str(options.tz),
        "licence": options.licence,
        "version": __version__,
        "colours": COLOURS,
        "week_colours": WEEK_COLOURS,
        "week_levels": LEVELS,
        "days": WEEKDAYS[options.language],
        "day_names": WEEKDAY_NAMES[options.language],
    }
    _write(directory / "index.html", env.get_template("index.html.j2").render(
        common, root="", pages=pages, departements=_departements(pages),
    ))  # fmt: skip
    _write(directory / "data.html", env.get_template("data.html.j2").render(
        common, root="", departements=_departements(pages), fields=opendata.FIELDS,
        current_fields=CURRENT_FIELDS,
    ))  # fmt: skip
    day_format = "%d/%m" if options.language == "fr" else "%m-%d"
    labels = {key[len("status_") :]: value for key, value in w.items() if key.startswith("status_")}
    target_template = env.get_template("target.html.j2")
    for page in pages:
        chart = timeline(window.days, page.hours, labels=labels, day_format=day_format)
        shot = _copy_screenshot(page, options.evidence_dir, directory / "shots")
        message = (
            None
            if page.latest is None
            else render_outcome(page.latest, options.language, options.tz)
        )
        _write(directory / page.page, target_template.render(
            common, root="../../", page=page, chart=chart, screenshot=shot, message=message,
            periods=list(reversed(page.periods)), now=window.now, week=week_grid(page.week),
        ))  # fmt: skip
    _write_data(directory / "data", pages, options, window)


def _departements(pages: list[TargetPage]) -> list[tuple[str, str]]:
    """(code, prefecture name) of every prefecture with a target, sorted by code."""
    return sorted({(p.target.prefecture, p.target.prefecture_name) for p in pages})


def _copy_screenshot(page: TargetPage, evidence_dir: Path, shots: Path) -> str | None:
    """Copy the target's latest screenshot if its content still matches its digest."""
    path = page.screenshot_file
    if path is None:
        return None
    relative = PurePosixPath(path)
    if relative.is_absolute() or ".." in relative.parts or not verify_file(evidence_dir, path):
        log.warning("%s: screenshot %s missing or altered, not published", page.target.id, path)
        return None
    shots.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(evidence_dir.joinpath(*relative.parts), shots / relative.name)
    return f"shots/{relative.name}"


def _write_data(
    directory: Path, pages: list[TargetPage], options: SiteOptions, window: Window
) -> None:
    generated = window.now.astimezone(UTC).isoformat(timespec="seconds")
    first = window.days[0]
    by_departement: dict[str, list[dict[str, Any]]] = {}
    everything: list[dict[str, Any]] = []

    def write_pair(stem: Path, rows: list[dict[str, Any]]) -> None:
        _write(stem.with_suffix(".csv"), opendata.csv_text(rows))
        _write(
            stem.with_suffix(".json"),
            opendata.json_text(rows, licence=options.licence, generated_at=generated, first=first),
        )

    for page in pages:
        rows = opendata.daily_rows(page.identity, page.days.values())
        write_pair(directory.parent / page.data_stem, rows)
        by_departement.setdefault(page.target.prefecture, []).extend(rows)
        everything.extend(rows)
    for code, rows in by_departement.items():
        rows.sort(key=lambda row: (row["date"], row["target"]))
        write_pair(directory / "departements" / code, rows)
    everything.sort(key=lambda row: (row["date"], row["target"]))
    write_pair(directory / "all", everything)
    _write(
        directory / "schema.json",
        opendata.schema_text(licence=options.licence, timezone=str(options.tz)),
    )
    now_rows = current_rows(pages)
    _write(directory / "current.csv", current_csv(now_rows))
    _write(
        directory / "current.json",
        current_json(now_rows, licence=options.licence, generated_at=generated),
    )


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
