"""`monitor publish [OUTDIR] [--language fr|en] [--licence TEXT]`: the public status page."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.commands.common import App, pass_app
from monitor.errors import UsageError


@click.command("publish")
@click.argument("outdir", required=False, type=click.Path(path_type=Path))
@click.option(
    "--language",
    "--lang",
    "language",
    type=click.Choice(("fr", "en")),
    help="Language of the pages [default: settings.publish.language, French].",
)
@click.option(
    "--licence",
    metavar="TEXT",
    help="The open data's licence line [default: settings.publish.licence]; '' for none.",
)
@pass_app
def publish_cmd(app: App, outdir: Path | None, language: str | None, licence: str | None) -> None:
    """Write the public status page and open data into OUTDIR [default: settings.publish.dir].

    A static site: an index of every configured target (status, since when, last slot,
    days without a slot and share of anomalies over 90 days), a page per target (hourly
    chart, La Cimade's buckets, anomaly periods, latest screenshot) and daily aggregates
    as CSV and JSON. OUTDIR becomes a symbolic link switched atomically to each new
    generation; serve it with any web server.
    """
    from monitor.publish.site import SiteOptions, publish

    config = app.config
    settings = config.settings.publish
    out = outdir or settings.dir
    if out is None:
        raise UsageError("give OUTDIR, or set settings.publish.dir in the config")
    options = SiteOptions(
        language=language or settings.language,
        licence=(settings.licence if licence is None else licence) or None,
        tz=config.settings.tz,
        evidence_dir=config.settings.evidence_dir,
        grace=config.settings.probe_timeout,
    )
    publication = publish(config.targets(), app.repository(), out, options)
    click.echo(
        f"published {publication.targets} targets in {publication.seconds:.1f}s: "
        f"{out / 'index.html'}"
    )
