"""`monitor evidence TARGET --out DIR`: a printable, verifiable evidence dossier."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import click

from monitor.commands.common import (
    App,
    evidence_dir_option,
    optional_config,
    pass_app,
    reading_settings,
)
from monitor.commands.filters import check_period, parse_bound
from monitor.errors import NothingMatched, UsageError


@click.command("evidence")
@click.argument("target")
@click.option("--since", metavar="WHEN", help="From this date/time, or this long ago (30d).")
@click.option("--until", metavar="WHEN", help="Before this date/time, or this long ago.")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A new (or empty) directory for the dossier.",
)
@click.option("--zip", "zip_it", is_flag=True, help="Also write DIR.zip.")
@click.option(
    "--lang",
    type=click.Choice(("fr", "en")),
    help="Language of the report [default: settings.language, French].",
)
@evidence_dir_option
@pass_app
def evidence_cmd(
    app: App,
    target: str,
    since: str | None,
    until: str | None,
    out: Path,
    zip_it: bool,
    lang: str | None,
    evidence_dir: Path | None,
) -> None:
    """Write an evidence dossier for one TARGET (a full id such as 92/remise-titre).

    DIR/index.html is the printable report: a summary with the statistics, a per-day chart,
    then every attempt with its local and UTC time, URL, result, the message shown, the
    screenshot and the SHA-256 digests; DIR/evidence holds the files, DIR/manifest.json the
    digest of every file. Exit 3 when the target has no attempt in the period; exit 2 when
    DIR is not new or empty, or is a symbolic link, or with --zip when DIR.zip exists.
    """
    from monitor.evidence.dossier.build import archive_path, build_dossier, collect

    if set(target) & set("*?["):
        raise UsageError(f"TARGET must be one target id, not a pattern: {target!r}")
    _check_destination(out, zip_it, archive_path(out))
    settings = reading_settings(app)
    now = datetime.now(UTC)
    since_at = parse_bound("--since", since, settings, now)
    until_at = parse_bound("--until", until, settings, now)
    check_period(since_at, until_at)
    title, prefecture_name = _names(app, target)
    dossier = collect(
        app.repository(),
        target,
        since=since_at,
        until=until_at,
        evidence_dir=evidence_dir or settings.evidence_dir,
        out=out,
        now=now,
        tz=settings.tz,
        language=lang or settings.language,
        title=title,
        prefecture_name=prefecture_name,
    )
    if dossier is None:
        period = " ".join(
            f"{name} {value}" for name, value in (("--since", since), ("--until", until)) if value
        )
        raise NothingMatched(f"no outcome of {target!r}{' with ' + period if period else ''}")
    digest, archive = build_dossier(dossier, out, zip_it=zip_it)
    click.echo(f"{len(dossier.attempts)} attempt(s) of {target} in {out / 'index.html'}")
    click.echo(f"manifest.json SHA-256: {digest}")
    click.echo(
        "  keep this value apart from the dossier (quote it in the covering letter); "
        f"python3 verify_dossier.py {digest} checks the dossier against it"
    )
    if archive is not None:
        click.echo(f"archive: {archive}")


def _check_destination(out: Path, zip_it: bool, archive: Path) -> None:
    """A new or empty real directory, and with ``--zip`` no ``DIR.zip`` yet (not even a link)."""
    if out.is_symlink():
        raise UsageError(f"--out {out} is a symbolic link: give the directory it points to")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"--out {out} already exists and is not empty: choose a new directory")
    if zip_it and os.path.lexists(archive):
        kind = "a symbolic link" if archive.is_symlink() else "there"
        raise UsageError(
            f"--zip: {archive} already exists ({kind}); it is never replaced: "
            "move it away or choose another --out"
        )


def _names(app: App, target: str) -> tuple[str | None, str | None]:
    """The procedure's and prefecture's names when the config knows the target."""
    config = optional_config(app)
    for known in () if config is None else config.targets(include_disabled=True):
        if known.id == target:
            return known.name, known.prefecture_name
    return None, None
