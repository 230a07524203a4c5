"""The prune log, ``pruned.jsonl``: which evidence files ``monitor db prune`` deleted, and when.

Deleting an old file is allowed; losing one is not. Each deleted file is logged here (one
JSON line, flushed to disk before the file goes), so that ``monitor verify`` and the
dossier can tell a pruned file from a missing one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

#: The prune log's name inside the evidence directory.
PRUNE_LOG = "pruned.jsonl"


@dataclass(frozen=True)
class PrunedFile:
    """One line of the prune log: an evidence file deliberately deleted."""

    path: str
    sha256: str
    size: int
    pruned_at: datetime
    before: datetime  #: the cutoff: only rows started before it referred to the file

    def as_json(self) -> str:
        return json.dumps(
            {
                "path": self.path,
                "sha256": self.sha256,
                "size": self.size,
                "pruned_at": self.pruned_at.isoformat(),
                "before": self.before.isoformat(),
            },
            sort_keys=True,
        )


def read_prune_log(evidence_dir: Path) -> dict[str, PrunedFile]:
    """Every file the prune log lists, by path (the latest prune of a path wins)."""
    pruned: dict[str, PrunedFile] = {}
    try:
        lines = (evidence_dir / PRUNE_LOG).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return pruned
    for line in lines:
        if not line.strip():
            continue
        entry = json.loads(line)
        pruned[entry["path"]] = PrunedFile(
            path=entry["path"],
            sha256=entry["sha256"],
            size=int(entry["size"]),
            pruned_at=datetime.fromisoformat(entry["pruned_at"]),
            before=datetime.fromisoformat(entry["before"]),
        )
    return pruned


def append_prune_log(evidence_dir: Path, entries: Iterable[PrunedFile]) -> None:
    """Add lines to the prune log, flushed to disk before the files are deleted."""
    with (evidence_dir / PRUNE_LOG).open("a", encoding="utf-8") as stream:
        for entry in entries:
            stream.write(entry.as_json() + "\n")
        stream.flush()
        os.fsync(stream.fileno())
