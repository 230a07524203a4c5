"""`monitor db upgrade | current`: the database schema, always through Alembic migrations."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import click

from monitor.commands.common import App, evidence_dir_option, pass_app, reading_settings
from monitor.commands.filters import parse_bound

if TYPE_CHECKING:
    from monitor.evidence.prune_log import PrunedFile
    from monitor.store.repository import Repository


@click.group("db")
def db_group() -> None:
    """Manage the database: migrations and evidence pruning."""


@db_group.command("upgrade")
@pass_app
def upgrade_cmd(app: App) -> None:
    """Bring the database to the latest migration (creates it if needed)."""
    from monitor.store.engine import current_revision, mask_database_url, upgrade

    upgrade(app.database_url)
    click.echo(
        f"{mask_database_url(app.database_url)} at revision {current_revision(app.database_url)}"
    )


@db_group.command("current")
@pass_app
def current_cmd(app: App) -> None:
    """Show the database's migration revision and the code's."""
    from monitor.store.engine import current_revision, head_revision

    current = current_revision(app.database_url)
    head = head_revision()
    state = "up to date" if current == head else "behind: run `monitor db upgrade`"
    click.echo(f"{current or '(empty)'} (code expects {head}; {state})")


# -- db prune ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrunePlan:
    """What ``db prune --before`` would do."""

    to_delete: list[PrunedFile]  #: files on disk referenced only by rows before the cutoff
    kept_shared: int  #: files of old rows kept because newer rows refer to them too
    already_pruned: int
    missing: list[str]  #: files of old rows neither on disk nor in the prune log


def plan_prune(
    repository: Repository, evidence_dir: Path, before: datetime, now: datetime
) -> PrunePlan:
    """The evidence files of rows started before ``before`` that no later row refers to.

    Files are content-addressed and shared: a page seen before and after the cutoff is
    one file, and it stays. Paths that are absolute or climb out of evidence_dir (only a
    tampered row could hold one) are never touched.
    """
    from monitor.evidence.prune_log import PrunedFile, read_prune_log
    from monitor.evidence.verify import evidence_paths_before

    newer = repository.evidence_paths(since=before)
    older = evidence_paths_before(repository.engine, before)
    logged = read_prune_log(evidence_dir)
    to_delete: list[PrunedFile] = []
    missing: list[str] = []
    already = 0
    for path in sorted(older - newer):
        relative = PurePosixPath(path)
        if relative.is_absolute() or ".." in relative.parts:
            continue
        file = evidence_dir.joinpath(*relative.parts)
        if file.is_file():
            digest = relative.name.split(".", 1)[0]
            to_delete.append(PrunedFile(path, digest, file.stat().st_size, now, before))
        elif path in logged:
            already += 1
        else:
            missing.append(path)
    return PrunePlan(to_delete, len(older & newer), already, missing)


def prune_files(evidence_dir: Path, plan: PrunePlan) -> None:
    """Log, then delete, the plan's files; fan-out directories left empty go too.

    The log is written (and fsynced) first: after a crash, a logged file still on disk
    verifies as present, whereas a deleted file never logged would look tampered with.
    """
    from monitor.evidence.prune_log import append_prune_log

    append_prune_log(evidence_dir, plan.to_delete)
    for entry in plan.to_delete:
        file = evidence_dir.joinpath(*PurePosixPath(entry.path).parts)
        file.unlink(missing_ok=True)
        with suppress(OSError):  # not empty: other files share the fan-out directory
            file.parent.rmdir()


@db_group.command("prune")
@click.option("--before", required=True, metavar="DATE", help="A date, time or age (90d).")
@click.option("--dry-run", is_flag=True, help="List what would be deleted; delete nothing.")
@evidence_dir_option
@pass_app
def prune_cmd(app: App, before: str, dry_run: bool, evidence_dir: Path | None) -> None:
    """Delete evidence files of outcomes started before DATE.

    Rows, their digests and chains stay: `monitor verify` still checks them and reports
    the deleted files as pruned (they are listed in EVIDENCE_DIR/pruned.jsonl). Files
    still referenced by an outcome on or after DATE are kept.
    """
    settings = reading_settings(app)
    now = datetime.now(UTC)
    cutoff = parse_bound("--before", before, settings, now)
    assert cutoff is not None
    directory = evidence_dir or settings.evidence_dir
    plan = plan_prune(app.repository(), directory, cutoff, now)
    size = sum(entry.size for entry in plan.to_delete) / 1_000_000
    if dry_run:
        for entry in plan.to_delete:
            click.echo(entry.path)
    else:
        prune_files(directory, plan)
    verb = "would prune" if dry_run else "pruned"
    click.echo(
        f"{verb} {len(plan.to_delete)} file(s), {size:.1f} MB, referenced only by outcomes "
        f"before {cutoff.isoformat()}; kept {plan.kept_shared} shared with newer outcomes; "
        f"{plan.already_pruned} already pruned"
    )
    if plan.missing:
        click.echo(
            f"warning: {len(plan.missing)} file(s) of those outcomes are missing and were "
            f"never pruned (see `monitor verify`), e.g. {plan.missing[0]}",
            err=True,
        )
