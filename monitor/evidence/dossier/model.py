"""What a dossier holds: the attempts, their evidence files and the figures, as values.

:func:`monitor.evidence.dossier.build.collect` fills a :class:`Dossier` from the record;
:mod:`monitor.evidence.dossier.html` renders it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from zoneinfo import ZoneInfo

from monitor.domain import Outcome
from monitor.reports.stats import GroupStats

#: What happened to each evidence file of the dossier.
FILE_STATES = ("copied", "pruned", "missing", "altered")


@dataclass(frozen=True)
class EvidenceFile:
    """One evidence file of an attempt, as the dossier holds it (or explains its absence)."""

    path: str  #: relative to the evidence directory (and to DIR/evidence)
    state: str  #: one of FILE_STATES

    @property
    def sha256(self) -> str:
        return PurePosixPath(self.path).name.split(".", 1)[0]

    @property
    def href(self) -> str:
        return f"evidence/{self.path}"

    @property
    def source_href(self) -> str:
        """The inert view of an HTML page (monitor.evidence.dossier.pages), never the page."""
        return f"pages/{self.sha256}.html"

    @property
    def is_screenshot(self) -> bool:
        return self.path.endswith(".png")


@dataclass(frozen=True)
class Attempt:
    """One outcome with its files and whether its chain link recomputes."""

    outcome: Outcome
    files: tuple[EvidenceFile, ...]
    chain_ok: bool


@dataclass(frozen=True)
class Dossier:
    """Everything the report shows; built by :func:`collect`, rendered by dossier.html."""

    target: str
    title: str  #: the procedure's name from the config, else the target id
    prefecture_name: str | None
    since: datetime | None
    until: datetime | None
    generated_at: datetime
    language: str
    tz: ZoneInfo
    attempts: list[Attempt]
    stats: GroupStats
    previous_chain: str | None  #: chain of the row before the first attempt; None: genesis
    chain_head: str | None
