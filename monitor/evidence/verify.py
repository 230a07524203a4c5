"""Checking the record: every target's hash chain, every row's evidence digest, every file.

What is checked, per target, rows oldest first (by id, the insertion order the chain
follows; see :func:`monitor.store.evidence.chain_hash` for the recipe):

* each row's ``chain`` against ``chain_hash(previous row's chain, row)``. A mismatch is
  classified with the next row: when the next row links to the *recomputed* value, the
  ``chain`` column itself was changed; otherwise, when ids between the two rows are
  missing from the table (SQLite never reuses ids), rows were deleted there; otherwise
  the row's fields were edited. Checking then resumes from the value the next row links
  to, so one alteration is reported once;
* the last row's chain against the target state's chain head (a deleted last row, or a
  truncated tail, leaves the head pointing at a row that is gone);
* each row's ``sha256`` against :func:`~monitor.store.evidence.evidence_digest` of its paths;
* each evidence file once, against the digest in its name. A file listed in the prune
  log (``pruned.jsonl`` in the evidence directory, written by ``monitor db prune``) is
  *pruned*, not missing, provided only rows before that prune's cutoff refer to it.

The prune log lives beside the files it describes rather than in the database so that
pruning needs no schema change; one JSON object per line: ``path``, ``sha256`` (the
digest in its name), ``size``, ``pruned_at`` and ``before`` (the prune's cutoff).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import Engine, select

from monitor.domain import Outcome
from monitor.evidence.anchors import Anchor, Rewrite, anchored
from monitor.evidence.prune_log import PrunedFile, read_prune_log
from monitor.store.engine import database_errors
from monitor.store.evidence import chain_hash, evidence_digest, verify_file
from monitor.store.ports import ChainRecord
from monitor.store.rows import outcomes, target_states

#: Problems listed per target before the rest are only counted.
SHOWN_PER_TARGET = 5


@dataclass(frozen=True)
class Problem:
    """One altered or missing thing, named precisely enough to look it up."""

    target: str
    what: str  #: row-edited, chain-edited, rows-deleted, tail-deleted, evidence, file-...
    field: str  #: the column or file concerned
    message: str
    outcome_id: int | None = None
    started_at: datetime | None = None


@dataclass
class TargetReport:
    """What verify found for one target."""

    target: str
    rows: int = 0
    files_ok: int = 0
    files_pruned: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _at(outcome: Outcome) -> str:
    return f"row {outcome.id} ({outcome.started_at.isoformat(timespec='seconds')})"


class ChainChecker:
    """Walks one target's rows in id order and reports broken links (no I/O of its own).

    ``missing_ids(after, before)`` must return the ids strictly between two rows' ids
    that are absent from the whole table.
    """

    def __init__(self, target: str, missing_ids: Callable[[int | None, int], list[int]]) -> None:
        self.target = target
        self._missing_ids = missing_ids

    def check(self, rows: Iterable[Outcome], head: str | None) -> Iterator[Problem]:
        """The problems of ``rows`` (one target's, in id order) and of its chain ``head``."""
        previous: Outcome | None = None
        previous_chain: str | None = None
        pending: Outcome | None = None  # a row whose link is broken, waiting for its next
        expected_pending = ""
        for row in rows:
            if pending is not None:
                problem, previous_chain = self._classify(
                    previous,
                    previous_chain,
                    pending,
                    expected_pending,
                    row.chain == chain_hash(expected_pending, row),
                )
                yield problem
                previous, pending = pending, None
            expected = chain_hash(previous_chain, row)
            if row.chain != expected:
                pending, expected_pending = row, expected
                continue
            previous, previous_chain = row, row.chain
        if pending is not None:
            # The last row: the chain head plays the part of the next row's link.
            problem, previous_chain = self._classify(
                previous, previous_chain, pending, expected_pending, head == expected_pending
            )
            yield problem
            previous = pending
        yield from self._check_head(previous, previous_chain, head)

    def _classify(
        self,
        before: Outcome | None,
        previous_chain: str | None,
        row: Outcome,
        expected: str,
        next_links_expected: bool,
    ) -> tuple[Problem, str | None]:
        """What broke the link into ``row``; returns the problem and the chain to go on from.

        ``next_links_expected``: the next row (or the head) links to the recomputed value.
        """
        if next_links_expected:
            return Problem(
                self.target,
                "chain-edited",
                "chain",
                f"{_at(row)}: its chain value was changed (recorded {row.chain}, "
                f"the fields give {expected})",
                row.id,
                row.started_at,
            ), expected
        assert row.id is not None
        missing = self._missing_ids(None if before is None else before.id, row.id)
        if missing:
            shown = ", ".join(str(i) for i in missing[:5]) + (", …" if len(missing) > 5 else "")
            where = "before it" if before is None else f"after row {before.id}"
            return Problem(
                self.target,
                "rows-deleted",
                "row",
                f"{_at(row)} does not link to the row {where}: "
                f"id(s) {shown} are missing from the table (deleted)",
                row.id,
                row.started_at,
            ), row.chain
        fixed = replace(row, sha256=evidence_digest(row.evidence))
        if row.sha256 != fixed.sha256 and chain_hash(previous_chain, fixed) == row.chain:
            field_name, detail = "sha256", "its sha256 was changed"
        else:
            field_name = "fields"
            detail = (
                "its recorded fields were edited (one of target, prefecture, started_at, "
                "finished_at, engine, status, reason, detail, http_status, url, final_url, "
                "slot_count, earliest_slot, sha256)"
            )
        return Problem(
            self.target, "row-edited", field_name, f"{_at(row)}: {detail}", row.id, row.started_at
        ), row.chain

    def _check_head(
        self, last: Outcome | None, last_chain: str | None, head: str | None
    ) -> Iterator[Problem]:
        if last is None:
            if head is not None:
                yield Problem(
                    self.target,
                    "tail-deleted",
                    "row",
                    "the target has a chain head but no outcome row: every row was deleted",
                )
            return
        if head is None:
            yield Problem(
                self.target,
                "tail-deleted",
                "chain_head",
                f"the target state has no chain head although {_at(last)} exists",
                last.id,
                last.started_at,
            )
        elif head != last_chain:
            yield Problem(
                self.target,
                "tail-deleted",
                "row",
                f"the chain head does not match the last row, {_at(last)}: "
                "the row(s) recorded after it were deleted",
                last.id,
                last.started_at,
            )


class MissingIds:
    """Ids absent from the outcomes table between two ids (``after`` None: from the start)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __call__(self, after: int | None, before: int) -> list[int]:
        low = 0 if after is None else after
        with database_errors(self._engine.url), self._engine.connect() as connection:
            present = set(
                connection.execute(
                    select(outcomes.c.id).where(outcomes.c.id > low, outcomes.c.id < before)
                ).scalars()
            )
        return [i for i in range(low + 1, before) if i not in present]


def chain_heads(engine: Engine) -> dict[str, str]:
    """Every target state's chain head (states without one are left out)."""
    with database_errors(engine.url), engine.connect() as connection:
        rows = connection.execute(
            select(target_states.c.target, target_states.c.chain_head).where(
                target_states.c.chain_head.is_not(None)
            )
        )
        return {row.target: row.chain_head for row in rows}


class FileChecker:
    """Checks each evidence file once, however many rows share it, and reports a bad
    file once, at the first row that refers to it."""

    def __init__(self, evidence_dir: Path, pruned: dict[str, PrunedFile]) -> None:
        self._dir = evidence_dir
        self._pruned = pruned
        self._seen: dict[str, str] = {}  # path -> ok | pruned | missing | altered
        self._reported: set[str] = set()

    def state(self, path: str) -> str:
        state = self._seen.get(path)
        if state is None:
            state = self._seen[path] = self._check(path)
        return state

    def _check(self, path: str) -> str:
        if verify_file(self._dir, path):
            return "ok"
        relative = PurePosixPath(path)
        if relative.is_absolute() or ".." in relative.parts:
            return "altered"
        if self._dir.joinpath(*relative.parts).exists():
            return "altered"
        return "pruned" if path in self._pruned else "missing"

    def problems(self, target: str, row: Outcome, report: TargetReport) -> Iterator[Problem]:
        """Problems with one row's evidence; counts its files in ``report``."""
        if evidence_digest(row.evidence) != row.sha256:
            yield Problem(
                target,
                "evidence",
                "evidence",
                f"{_at(row)}: its list of evidence files does not match its sha256",
                row.id,
                row.started_at,
            )
        for path in row.evidence:
            state = self.state(path)
            if state == "ok":
                report.files_ok += 1
            elif state == "pruned" and row.started_at < self._pruned[path].before:
                report.files_pruned += 1
            elif path in self._reported:
                continue  # one problem per file, at the first row that refers to it
            elif state == "pruned":
                self._reported.add(path)
                yield Problem(
                    target,
                    "file-missing",
                    "file",
                    f"{_at(row)}: file {path} is gone; the prune log lists it, but that "
                    f"prune only removed files of rows before "
                    f"{self._pruned[path].before.isoformat()}",
                    row.id,
                    row.started_at,
                )
            else:
                self._reported.add(path)
                message = (
                    "is missing (and no prune removed it)"
                    if state == "missing"
                    else "has been altered: its content no longer has the digest in its name"
                )
                yield Problem(
                    target,
                    f"file-{state}",
                    "file",
                    f"{_at(row)}: evidence file {path} {message}",
                    row.id,
                    row.started_at,
                )


def verify_targets(
    repository: ChainRecord,
    evidence_dir: Path,
    targets: Iterable[str],
    anchors: Sequence[Anchor] = (),
) -> Iterator[TargetReport]:
    """One report per target, computed as the target's rows stream past; with ``anchors``
    (monitor.evidence.anchors), also every anchored head that the record no longer holds."""
    engine = repository.engine
    heads = chain_heads(engine)
    files = FileChecker(evidence_dir, read_prune_log(evidence_dir))
    missing_ids = MissingIds(engine)
    for target in targets:
        report = TargetReport(target)
        evidence_problems: list[Problem] = []
        rewrites: list[Rewrite] = []
        rows = _counted(repository.outcomes_for_target(target), report, files, evidence_problems)
        rows = anchored(rows, [a for a in anchors if a.target == target], rewrites)
        chain_problems = list(ChainChecker(target, missing_ids).check(rows, heads.get(target)))
        chain_problems += [
            Problem(target, "rewritten", "heads", rewrite.message) for rewrite in rewrites
        ]
        # Show problems in row order, whatever found them; head problems last.
        report.problems = sorted(
            chain_problems + evidence_problems,
            key=lambda p: (p.what == "tail-deleted", p.outcome_id or 0),
        )
        yield report


def _counted(
    rows: Iterable[Outcome], report: TargetReport, files: FileChecker, problems: list[Problem]
) -> Iterator[Outcome]:
    """Passes rows through, counting them and collecting their evidence problems."""
    for row in rows:
        report.rows += 1
        problems.extend(files.problems(report.target, row, report))
        yield row


def all_targets(repository: ChainRecord) -> list[str]:
    """Targets with rows, and targets whose state still names a chain head."""
    return sorted(set(repository.targets_with_outcomes()) | set(chain_heads(repository.engine)))


def evidence_paths_before(engine: Engine, before: datetime) -> set[str]:
    """Evidence files referenced by outcomes started before ``before``."""
    query = select(outcomes.c.evidence).where(outcomes.c.started_at < before)
    paths: set[str] = set()
    with database_errors(engine.url), engine.connect() as connection:
        for evidence in connection.execution_options(yield_per=1000).scalars(query):
            paths.update(evidence or ())
    return paths
