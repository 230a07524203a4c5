"""`monitor verify [TARGET…]`: recompute every chain and evidence digest; exit 1 on any problem."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.commands.common import App, evidence_dir_option, pass_app, reading_settings
from monitor.errors import IntegrityError, NothingMatched


@click.command("verify")
@click.argument("targets", nargs=-1, metavar="[TARGET…]")
@evidence_dir_option
@click.option(
    "--heads",
    "heads_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Chain heads written earlier (heads.jsonl, or a copy kept elsewhere) that must "
    "still be in the record [default: heads.jsonl in the evidence directory, if any].",
)
@pass_app
def verify_cmd(
    app: App, targets: tuple[str, ...], evidence_dir: Path | None, heads_file: Path | None
) -> None:
    """Check every target's hash chain, evidence digests and evidence files.

    TARGET is a target id or glob (default: every target in the database). Prints one
    summary per target and names each altered or missing row or file; files removed by
    `monitor db prune` are reported as pruned, not missing. With chain heads anchored
    earlier (--heads, or the daemon's heads.jsonl), a consistent rewrite of the database
    (rows dropped and the chain head reset) is named too. Exit 1 if anything is wrong.
    """
    from monitor.evidence.anchors import HEADS_FILE, read_anchors
    from monitor.evidence.verify import SHOWN_PER_TARGET, all_targets, verify_targets
    from monitor.reports.stats_query import matching_targets

    directory = evidence_dir or reading_settings(app).evidence_dir
    if heads_file is None and (directory / HEADS_FILE).is_file():
        heads_file = directory / HEADS_FILE
    anchors = read_anchors(heads_file) if heads_file is not None else []
    repository = app.repository()
    # A target whose every row and state were removed is still checked against its anchors.
    known = sorted(set(all_targets(repository)) | {anchor.target for anchor in anchors})
    if not known:
        raise NothingMatched("the database has no outcome to verify")
    chosen = matching_targets(known, targets) if targets else known
    width = max(len(target) for target in chosen)
    click.echo(f"evidence files in {directory}")
    if heads_file is not None:
        click.echo(f"chain heads anchored in {heads_file} ({len(anchors)} line(s))")
    problems = []
    failed = 0
    for report in verify_targets(repository, directory, chosen, anchors):
        files = f"{report.files_ok} file references ok"
        if report.files_pruned:
            files += f", {report.files_pruned} pruned"
        verdict = "intact" if report.ok else f"{len(report.problems)} PROBLEM(S)"
        click.echo(f"{report.target.ljust(width)}  {report.rows:>8} rows  {verdict}; {files}")
        for problem in report.problems[:SHOWN_PER_TARGET]:
            click.echo(f"  - [{problem.field}] {problem.message}")
        if len(report.problems) > SHOWN_PER_TARGET:
            click.echo(f"  … and {len(report.problems) - SHOWN_PER_TARGET} more")
        if not report.ok:
            failed += 1
            problems.extend(report.problems)
    if problems:
        raise IntegrityError(
            f"{len(problems)} problem(s) in {failed} of {len(chosen)} target(s); "
            f"first: {problems[0].message}"
        )
    click.echo(f"all {len(chosen)} target(s) verified")
