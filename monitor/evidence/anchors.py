"""Anchors: each target's chain head written outside the database, so a rewrite shows.

The hash chain catches an edited, deleted or reordered row, and the target state's chain
head catches a cut tail. Someone who rewrites the database *consistently* (drops the newest
rows and resets the chain head, or recomputes every chain after an edit) leaves a ledger
that verifies on its own. An anchor is a line written earlier to an append-only file beside
the evidence (``heads.jsonl``): the target, its chain head then, how many rows it had, and
when. ``monitor verify --heads FILE`` checks that every anchored head is still a row of the
target, at the same position: a head that is gone, or that moved, means the record was
rewritten after that line was written.

The daemon appends one line per target at start, once a day and at shutdown. Each line is
a JSON object: ``at`` (UTC ISO 8601), ``target``, ``head`` (64 hex characters) and ``rows``
(the target's row count when the head was its newest row). Keep a copy elsewhere (mail it,
publish it): a file beside the database can be rewritten with it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.domain import Outcome, is_monitor_key
from monitor.errors import IntegrityError

if TYPE_CHECKING:
    from monitor.store.ports import ChainHeads

#: The anchor file's name inside the evidence directory.
HEADS_FILE = "heads.jsonl"

_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Anchor:
    """One target's chain head at one moment."""

    at: datetime
    target: str
    head: str
    rows: int

    def line(self) -> str:
        fields = {"at": self.at.isoformat(), "target": self.target, "head": self.head}
        return json.dumps({**fields, "rows": self.rows}, ensure_ascii=False, sort_keys=True)


def anchors_now(heads: Iterable[tuple[str, str, int]], at: datetime) -> list[Anchor]:
    """Anchors for ``(target, chain head, row count)`` triples, the monitor's own left out."""
    return [
        Anchor(at.astimezone(UTC), target, head, rows)
        for target, head, rows in sorted(heads)
        if not is_monitor_key(target)
    ]


def append_anchors(path: Path, anchors: Sequence[Anchor]) -> None:
    """Append ``anchors`` to ``path`` (created if needed) and fsync: never rewrites a line."""
    if not anchors:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(anchor.line() + "\n" for anchor in anchors)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_anchors(path: Path) -> list[Anchor]:
    """Every anchor of ``path``; IntegrityError naming the first line that is not one."""
    anchors = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                anchors.append(_anchor(json.loads(line)))
            except (ValueError, TypeError, KeyError) as exc:
                raise IntegrityError(
                    f"{path}:{number}: not an anchor line ({exc}); each line is a JSON object "
                    'with "at", "target", "head" and "rows", as the daemon writes them'
                ) from None
    return anchors


def _anchor(data: dict[str, object]) -> Anchor:
    at = datetime.fromisoformat(str(data["at"]))
    head, rows = str(data["head"]), data["rows"]
    if at.tzinfo is None or not _HEX64.fullmatch(head) or not isinstance(rows, int) or rows < 1:
        raise ValueError("a field has the wrong form")
    return Anchor(at, str(data["target"]), head, rows)


@dataclass(frozen=True)
class Rewrite:
    """An anchored head the record no longer holds where it was."""

    anchor: Anchor
    found_at: int | None  #: the head's position now (1 = first row), None: gone

    @property
    def message(self) -> str:
        when = self.anchor.at.isoformat(timespec="seconds")
        if self.found_at is None:
            return (
                f"the chain head anchored at {when} ({self.anchor.head[:12]}…, row "
                f"{self.anchor.rows} of the target) is no longer in the record: rows written "
                "up to then were deleted or rewritten"
            )
        return (
            f"the chain head anchored at {when} was row {self.anchor.rows} of the target and "
            f"is now row {self.found_at}: rows before it were added or removed"
        )


def anchored(
    rows: Iterable[Outcome], anchors: Sequence[Anchor], rewrites: list[Rewrite]
) -> Iterator[Outcome]:
    """Pass one target's rows through (oldest first), noting every anchor they break."""
    wanted: dict[str, list[Anchor]] = {}
    for anchor in anchors:
        wanted.setdefault(anchor.head, []).append(anchor)
    found: dict[str, int] = {}
    for position, row in enumerate(rows, 1):
        if row.chain in wanted:
            found[row.chain] = position
        yield row
    for head, those in wanted.items():
        for anchor in those:
            where = found.get(head)
            if where != anchor.rows:
                rewrites.append(Rewrite(anchor, where))


def write_anchors(repository: ChainHeads, evidence_dir: Path, at: datetime) -> int:
    """Append every target's head now to ``evidence_dir/heads.jsonl``; how many lines."""
    anchors = anchors_now(repository.chain_heads_and_counts(), at)
    append_anchors(evidence_dir / HEADS_FILE, anchors)
    return len(anchors)
