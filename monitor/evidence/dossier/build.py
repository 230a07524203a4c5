"""Evidence dossiers: one target's attempts over a period, as a folder a court can keep.

``build_dossier`` writes into a new directory::

    index.html          the printable report (monitor.evidence.dossier.html), French by default
    outcomes.json       every attempt with every outcome field (UTC), for machines
    verify_dossier.py   a standard-library script that re-checks the folder against the manifest
    evidence/ab/ab….png the screenshots and HTML snapshots, under their SHA-256 names
    pages/ab….html      each HTML snapshot as inert source text (monitor.evidence.dossier.pages)
    manifest.json       every other file with its SHA-256 and size, the files that must be
                        there, the attempt count and ids, the chain value before the first
                        attempt, the last attempt's and the target's chain head, the evidence
                        not included and why

and, with ``zip_it``, ``<DIR>.zip`` beside it, written to a temporary file and linked into
place only if no ``<DIR>.zip`` exists (never through a symbolic link, never over a file).
The SHA-256 of ``manifest.json`` is the dossier's anchor: ``monitor evidence`` prints it and
``verify_dossier.py`` prints it first. Evidence files are copied only when their
content still has the digest in their name; pruned, missing or altered files are listed as
such in the report and the manifest, never silently skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from monitor import __version__
from monitor.errors import UsageError
from monitor.evidence.dossier.html import render
from monitor.evidence.dossier.model import Attempt, Dossier, EvidenceFile
from monitor.evidence.dossier.pages import write_source_views
from monitor.evidence.dossier.script import VERIFY_SCRIPT
from monitor.evidence.prune_log import read_prune_log
from monitor.reports.output import OUTCOME_FIELDS, machine_value, outcome_row
from monitor.reports.stats import stats_of_outcomes
from monitor.store.engine import database_errors
from monitor.store.evidence import chain_hash, file_digest, verify_file
from monitor.store.ports import DossierReads
from monitor.store.rows import outcomes

#: The files every dossier has; verify_dossier.py fails when the manifest does not list them.
ESSENTIALS = ("index.html", "outcomes.json", "verify_dossier.py")


def collect(
    repository: DossierReads,
    target: str,
    *,
    since: datetime | None,
    until: datetime | None,
    evidence_dir: Path,
    out: Path,
    now: datetime,
    tz: ZoneInfo,
    language: str,
    title: str | None = None,
    prefecture_name: str | None = None,
) -> Dossier | None:
    """Read the attempts, copy their evidence into ``out/evidence``; None if no attempt."""
    rows = list(repository.history(targets=[target], since=since, until=until, newest_first=False))
    if not rows:
        return None
    rows.sort(key=lambda outcome: outcome.id or 0)  # the chain's order
    previous = _chain_before(repository, target, rows[0].id or 0)
    pruned = read_prune_log(evidence_dir)
    states: dict[str, str] = {}
    attempts = []
    link = previous
    for outcome in rows:
        files = []
        for path in outcome.evidence:
            if path not in states:
                states[path] = _copy(evidence_dir, out / "evidence", path, pruned)
            files.append(EvidenceFile(path, states[path]))
        attempts.append(Attempt(outcome, tuple(files), outcome.chain == chain_hash(link, outcome)))
        link = outcome.chain
    return Dossier(
        target=target,
        title=title or target,
        prefecture_name=prefecture_name,
        since=since,
        until=until,
        generated_at=now,
        language=language,
        tz=tz,
        attempts=attempts,
        stats=stats_of_outcomes(rows, by="target", tz=tz, now=now, until=until)[0],
        previous_chain=previous,
        chain_head=repository.chain_head(target),
    )


def _chain_before(repository: DossierReads, target: str, first_id: int) -> str | None:
    """The chain the first attempt links to: its target's previous row's (None: genesis)."""
    engine = repository.engine
    query = (
        select(outcomes.c.chain)
        .where(outcomes.c.target == target, outcomes.c.id < first_id)
        .order_by(outcomes.c.id.desc())
        .limit(1)
    )
    with database_errors(engine.url), engine.connect() as connection:
        chain: str | None = connection.execute(query).scalar_one_or_none()
    return chain


def _copy(source_dir: Path, target_dir: Path, path: str, pruned: dict[str, Any]) -> str:
    relative = PurePosixPath(path)
    if relative.is_absolute() or ".." in relative.parts:
        return "altered"  # only a tampered row could name such a path: never follow it
    source = source_dir.joinpath(*relative.parts)
    if not source.exists():
        return "pruned" if path in pruned else "missing"
    if not verify_file(source_dir, path):
        return "altered"
    destination = target_dir.joinpath(*relative.parts)
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, destination)
    return "copied"


def outcomes_document(dossier: Dossier) -> str:
    """``outcomes.json``: the attempts with the contract's field names, UTC, in chain order."""
    rows = [
        {name: machine_value(outcome_row(a.outcome)[name]) for name in OUTCOME_FIELDS}
        for a in dossier.attempts
    ]
    return json.dumps(rows, ensure_ascii=False, indent=1) + "\n"


def write_manifest(out: Path, dossier: Dossier) -> str:
    """Write ``manifest.json`` listing every other file with its digest; returns its SHA-256."""
    files = []
    for file in _files_of(out):
        relative = file.relative_to(out).as_posix()
        if relative == "manifest.json":
            continue
        files.append({"path": relative, "sha256": file_digest(file), "size": file.stat().st_size})
    absent = sorted(
        {(f.path, f.state) for a in dossier.attempts for f in a.files if f.state != "copied"}
    )
    manifest = {
        "tool": f"prefecture-monitor {__version__}",
        "generated_at": machine_value(dossier.generated_at),
        "target": dossier.target,
        "essentials": list(ESSENTIALS),
        "since": machine_value(dossier.since),
        "until": machine_value(dossier.until),
        "attempts": len(dossier.attempts),
        "outcome_ids": [a.outcome.id for a in dossier.attempts],
        "previous_chain": dossier.previous_chain,
        "last_chain": dossier.attempts[-1].outcome.chain,
        "chain_head": dossier.chain_head,
        "files": files,
        "evidence_not_included": [{"path": path, "state": state} for path, state in absent],
    }
    content = (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    (out / "manifest.json").write_bytes(content)
    return hashlib.sha256(content).hexdigest()  # the very bytes written: verify_dossier's too


def _files_of(out: Path) -> list[Path]:
    """The dossier's regular files, sorted; links (which the dossier never makes) left out."""
    found = []
    for top, _folders, names in os.walk(out):  # does not follow links to folders
        found += [Path(top, n) for n in names if not Path(top, n).is_symlink()]
    return sorted(found)


def archive_path(out: Path) -> Path:
    """Where ``--zip`` writes: ``<DIR>.zip`` beside the dossier."""
    return out.with_name(out.name + ".zip")


def zip_dossier(out: Path) -> Path:
    """``<out>.zip`` with the dossier under a top folder of the same name.

    Written to a temporary file in the same folder, then hard-linked to its name, which
    fails if anything (a file, a symbolic link) is already there: nothing outside is written
    through a link and no existing file is replaced.
    """
    archive = archive_path(out)
    fd, temporary = tempfile.mkstemp(dir=archive.parent, prefix=f".{archive.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as stream:
            with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
                for file in _files_of(out):
                    name = PurePosixPath(out.name) / file.relative_to(out).as_posix()
                    bundle.write(file, str(name))
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)  # as the dossier's own files, not mkstemp's 0600
        _link_new(Path(temporary), archive)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return archive


def _link_new(temporary: Path, archive: Path) -> None:
    """Give ``temporary`` the name ``archive`` only if that name is free."""
    try:
        os.link(temporary, archive, follow_symlinks=False)
    except FileExistsError:
        raise UsageError(
            f"{archive} appeared while the dossier was written: not replaced"
        ) from None
    except OSError:  # a file system without hard links: check, then rename (not atomic)
        if os.path.lexists(archive):
            raise UsageError(f"{archive} already exists: not replaced") from None
        os.rename(temporary, archive)


def build_dossier(dossier: Dossier, out: Path, *, zip_it: bool = False) -> tuple[str, Path | None]:
    """Write the report, the data, the script and the manifest (evidence already copied).

    Returns the manifest's SHA-256 and the zip file, if any.
    """
    out.mkdir(parents=True, exist_ok=True)
    write_source_views(out, dossier)
    (out / "index.html").write_text(render(dossier), encoding="utf-8")
    (out / "outcomes.json").write_text(outcomes_document(dossier), encoding="utf-8")
    (out / "verify_dossier.py").write_text(VERIFY_SCRIPT, encoding="utf-8")
    digest = write_manifest(out, dossier)
    return digest, zip_dossier(out) if zip_it else None
