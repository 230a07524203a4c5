"""The repository explains itself: its references point into docs/, and every one resolves.

The code once cited two documents kept outside the repository (the contract and the
platform notes); a newcomer could not follow those citations. Now the contract, the
platform notes and the architecture are in ``docs/``, and this test keeps it so:

* no file of the code, the tests, the benchmarks, the scripts or the deployment files cites
  the old documents, by name or by a bare section sign;
* every ``docs/<file>.md#<anchor>`` cited anywhere, and every link between the docs, names a
  file that exists and a heading it has, by GitHub's anchor rule;
* the architecture's Mermaid diagram is well formed, and its plain-text fallback draws the
  same stages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest


def _repository_root() -> Path:
    here = Path(__file__).resolve().parent
    while not (here / "pyproject.toml").exists():
        here = here.parent
    return here


ROOT = _repository_root()
DOCS = ROOT / "docs"
#: Where citations live: the code and everything around it. CHANGELOG.md is history: its
#: old entries stay as they were written.
SCANNED_DIRS = ("monitor", "tests", "bench", "scripts", "deploy")
SCANNED_FILES = (
    "README.md",
    "BENCHMARKS.md",
    "prefectures.yaml",
    "pyproject.toml",
    "Dockerfile",
    "Makefile",
)
TEXT_SUFFIXES = frozenset(
    {".py", ".md", ".yaml", ".yml", ".toml", ".sh", ".service", ".timer", ".j2", ".html",
     ".css", ".js", ".txt", ".cfg", ".ini", ".mako"}
)  # fmt: skip
#: The old documents, as the code used to cite them.
OLD_CITATION = re.compile(r"\bSPEC\b|\bPLATFORMS\b|\.\./shared\b")
#: A section sign cites a numbered section; only BENCHMARKS.md still has numbered ones.
SECTION_SIGN = "§"


def cites_old_document(line: str, path: Path | None = None) -> bool:
    """Whether ``line`` cites the old documents, or a numbered section not of BENCHMARKS.md."""
    if OLD_CITATION.search(line):
        return True
    inside_benchmarks = path is not None and path.name == "BENCHMARKS.md"
    return SECTION_SIGN in line and "BENCHMARKS" not in line and not inside_benchmarks


DOC_REFERENCE = re.compile(r"\bdocs/(?P<file>[\w.-]+\.md)(?:#(?P<anchor>[\w%-]+))?")
MARKDOWN_LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(?P<marks>#{1,6})\s+(?P<text>.+?)\s*#*\s*$")


def scanned_files() -> Iterator[Path]:
    """The text files where a citation may be written, this module excepted."""
    this = Path(__file__).resolve()
    for name in SCANNED_DIRS:
        for path in sorted((ROOT / name).rglob("*")):
            if path.is_file() and path.suffix in TEXT_SUFFIXES and path.resolve() != this:
                yield path
    for name in SCANNED_FILES:
        if (ROOT / name).is_file():
            yield ROOT / name


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: link text kept, lower case, punctuation dropped
    (hyphens and underscores kept, letters with accents too), spaces made hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return "".join(ch for ch in text if ch.isalnum() or ch in " -_").replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Every heading anchor of a Markdown text, a repeated one numbered as GitHub does."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    fenced = False
    for line in markdown.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else HEADING.match(line)
        if match is None:
            continue
        base = slug(match["text"])
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def code_blocks(markdown: str, language: str) -> list[str]:
    """The fenced blocks of ``language`` ("" for a block without one)."""
    blocks = re.findall(r"^```(\w*)\n(.*?)^```", markdown, re.M | re.S)
    return [body for lang, body in blocks if lang == language]


def broken_reference(source: Path, target: Path, anchor: str | None) -> str | None:
    """Why a reference from ``source`` to ``target#anchor`` does not resolve, else None."""
    where = source.relative_to(ROOT).as_posix()
    if not target.exists():
        return f"{where}: {target.relative_to(ROOT).as_posix()} does not exist"
    if anchor and target.suffix == ".md" and anchor not in anchors(read(target)):
        return f"{where}: {target.relative_to(ROOT).as_posix()} has no heading #{anchor}"
    return None


# -- the checks ----------------------------------------------------------------------------


def test_no_file_cites_the_documents_outside_the_repository() -> None:
    citations = [
        f"{path.relative_to(ROOT).as_posix()}:{number}: {line.strip()}"
        for path in scanned_files()
        for number, line in enumerate(read(path).splitlines(), start=1)
        if cites_old_document(line, path)
    ]
    assert citations == []


def test_every_docs_reference_in_the_code_resolves() -> None:
    problems = []
    for path in scanned_files():
        for match in DOC_REFERENCE.finditer(read(path)):
            problem = broken_reference(path, DOCS / match["file"], match["anchor"])
            if problem:
                problems.append(problem)
    assert problems == []


def test_every_link_between_the_docs_resolves() -> None:
    problems = []
    for doc in sorted(DOCS.glob("*.md")):
        for match in MARKDOWN_LINK.finditer(read(doc)):
            target = match["target"]
            if re.match(r"^[a-z]+:", target):
                continue  # a web address
            file, _, anchor = target.partition("#")
            problem = broken_reference(doc, (doc.parent / file).resolve() if file else doc, anchor)
            if problem:
                problems.append(problem)
    assert problems == []


def test_the_code_cites_the_docs() -> None:
    # Not vacuous: the platform notes and the contract are cited where the code relies on them.
    cited = {
        match["file"]
        for path in scanned_files()
        if path.is_relative_to(ROOT / "monitor")
        for match in DOC_REFERENCE.finditer(read(path))
    }
    assert {"contract.md", "platforms.md"} <= cited


#: The stages of an attempt that architecture.md draws, each with the package that holds it.
STAGES = {
    "target": "config/",
    "schedule": "daemon/",
    "politeness": "daemon/politeness.py",
    "probe": "attempt/probe.py",
    "classify": "attempt/classify.py",
    "record": "attempt/record.py",
    "outbox": "store/outbox.py",
    "channels": "alerts/",
    "reports": "reports/",
    "dossier": "evidence/",
    "status page": "publish/",
}


def test_the_architecture_diagram_is_well_formed_mermaid() -> None:
    (diagram,) = code_blocks(read(DOCS / "architecture.md"), "mermaid")
    lines = [line.strip() for line in diagram.splitlines() if line.strip()]
    assert re.fullmatch(r"flowchart (TD|TB|LR|RL|BT)", lines[0])
    node = r"(?P<{0}>\w+)(?:\[\"(?P<{0}_label>[^\"]+)\"\])?"
    edge = re.compile(node.format("source") + r"\s*-->\s*" + node.format("target"))
    defined: dict[str, str] = {}
    for line in lines[1:]:
        match = edge.fullmatch(line)
        assert match, f"not an edge Mermaid reads: {line}"
        for end in ("source", "target"):
            if match[f"{end}_label"]:
                defined[match[end]] = match[f"{end}_label"]
            assert match[end] in defined, f"{match[end]} is used before it has a label"
    labels = " ".join(defined.values())
    for stage, package in STAGES.items():
        assert stage in labels and package in labels, stage


def test_the_plain_text_diagram_draws_the_same_stages() -> None:
    fallbacks = [
        block for block in code_blocks(read(DOCS / "architecture.md"), "") if "──►" in block
    ]
    assert fallbacks, "architecture.md has no plain-text drawing of the data flow"
    drawing = fallbacks[0]
    for stage, package in STAGES.items():
        assert stage in drawing and package in drawing, stage


# -- the rules above, on texts written to break them ----------------------------------------


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Exit codes", "exit-codes"),
        ("legacy-booking: the week calendar", "legacy-booking-the-week-calendar"),
        ("What the monitor does, and never does", "what-the-monitor-does-and-never-does"),
        ("Outcomes: `status` and `reason`", "outcomes-status-and-reason"),
        ("[Sources](#sources) (2026)", "sources-2026"),
        ("Préfecture de Police", "préfecture-de-police"),
    ],
)
def test_slug_follows_githubs_rule(heading: str, expected: str) -> None:
    assert slug(heading) == expected


def test_anchors_number_repeats_and_skip_code_blocks() -> None:
    text = "# Notes\n## Notes\n```\n# not a heading\n```\n### Notes ##\n"
    assert anchors(text) == {"notes", "notes-1", "notes-2"}


@pytest.mark.parametrize(
    "line",
    [
        "Exit codes (SPEC): 0 success",
        "Precedence is SPEC's order",
        "(PLATFORMS.md §1.4)",
        "see ../shared/SPEC.md",
        "States (§2.5) and what they mean",
    ],
)
def test_an_old_citation_is_seen(line: str) -> None:
    assert cites_old_document(line)


@pytest.mark.parametrize(
    "line", ["_LIKE_SPECIAL = re.compile(...)", "(BENCHMARKS.md §9)", "docs/contract.md#exit-codes"]
)
def test_a_current_reference_is_not_taken_for_an_old_one(line: str) -> None:
    assert not cites_old_document(line)


def test_benchmarks_may_number_its_own_sections() -> None:
    assert not cites_old_document("the evidence most of the rest (§1)", ROOT / "BENCHMARKS.md")
    assert cites_old_document("the evidence most of the rest (§1)", ROOT / "README.md")


def test_a_missing_anchor_is_named() -> None:
    target = DOCS / "contract.md"
    assert broken_reference(target, target, "exit-codes") is None
    assert broken_reference(target, target, "no-such-heading") == (
        "docs/contract.md: docs/contract.md has no heading #no-such-heading"
    )
    assert "does not exist" in (broken_reference(target, DOCS / "nowhere.md", None) or "")
