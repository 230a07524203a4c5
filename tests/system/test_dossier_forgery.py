"""A dossier that checks itself: verify_dossier.py, run as a person would, against forgeries.

Each forger below edits the folder and then rewrites manifest.json's file digests to match
(what someone who read the script would do); the script must still name the forgery from
the manifest's own counts, ids, chains and lists, and the manifest's SHA-256, printed first,
is the value `monitor evidence` printed when it made the dossier.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers import TARGET, Database, run
from test_dossier import record_week

from monitor.domain import Outcome


@dataclass
class Sealed:
    """A dossier as `monitor evidence` made it, with the anchor it printed."""

    out: Path
    outcomes: list[Outcome]
    anchor: str


@dataclass
class Verdict:
    code: int
    lines: list[str]

    @property
    def problems(self) -> list[str]:
        return [
            line.removeprefix("PROBLEM: ") for line in self.lines if line.startswith("PROBLEM:")
        ]


@pytest.fixture
def sealed(database: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Sealed:
    outcomes = record_week(database)
    out = tmp_path / "dossier"
    result = run(
        capsys, "evidence", TARGET, "--out", str(out), "--evidence-dir", str(database.evidence_dir)
    )
    assert result.code == 0, result.err
    anchor = re.search(r"^manifest\.json SHA-256: ([0-9a-f]{64})$", result.out, re.M)
    assert anchor, result.out
    assert f"python3 verify_dossier.py {anchor.group(1)}" in result.out
    # what the command says is what the manifest records
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert f"{manifest['attempts']} attempt(s) of {TARGET}" in result.out
    assert manifest["outcome_ids"] == [o.id for o in outcomes]
    assert manifest["essentials"] == ["index.html", "outcomes.json", "verify_dossier.py"]
    return Sealed(out, outcomes, anchor.group(1))


def verify(out: Path, *args: str) -> Verdict:
    """``python3 verify_dossier.py`` in the dossier's folder, as its recipe says: the
    system's Python when there is one, isolated (-I: no PYTHONPATH, no user packages)."""
    python = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
    done = subprocess.run(
        [python, "-I", "verify_dossier.py", *args],
        cwd=out,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return Verdict(done.returncode, done.stdout.splitlines())


def manifest_of(out: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return loaded


def reseal(out: Path, manifest: dict[str, Any]) -> None:
    """What a forger does after editing: every listed file's digest made true again."""
    for entry in manifest["files"]:
        path = out / entry["path"]
        if path.is_file():
            entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
            entry["size"] = path.stat().st_size
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def rows_of(out: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads((out / "outcomes.json").read_text(encoding="utf-8"))
    return rows


def write_rows(out: Path, rows: list[dict[str, Any]]) -> None:
    (out / "outcomes.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1))


def test_it_prints_the_anchor_monitor_evidence_printed_first_and_passes(sealed: Sealed) -> None:
    verdict = verify(sealed.out)
    manifest_bytes = (sealed.out / "manifest.json").read_bytes()
    assert verdict.lines[0] == f"manifest.json SHA-256: {sealed.anchor}"
    assert hashlib.sha256(manifest_bytes).hexdigest() == sealed.anchor  # what sha256sum prints
    assert verdict.code == 0 and verdict.problems == [], verdict.lines
    assert verify(sealed.out, sealed.anchor).code == 0
    assert verify(sealed.out, sealed.anchor.upper()).code == 0


def test_the_last_three_attempts_removed(sealed: Sealed) -> None:
    rows = rows_of(sealed.out)
    write_rows(sealed.out, rows[:-3])
    reseal(sealed.out, manifest_of(sealed.out))

    verdict = verify(sealed.out)
    gone = ", ".join(str(row["id"]) for row in rows[-3:])
    assert verdict.code == 1
    assert "outcomes.json holds 5 attempt(s), manifest.json says 8" in verdict.problems
    assert f"outcomes.json's attempt ids differ from manifest.json's: missing {gone}" in (
        verdict.problems
    )
    assert any(
        p.startswith("the last attempt's chain is not manifest.json's") for p in (verdict.problems)
    )
    assert verdict.lines[0] != f"manifest.json SHA-256: {sealed.anchor}"


def test_the_first_three_attempts_removed_with_previous_chain_moved(sealed: Sealed) -> None:
    rows = rows_of(sealed.out)
    write_rows(sealed.out, rows[3:])
    manifest = manifest_of(sealed.out)
    manifest["previous_chain"] = rows[2]["chain"]  # so that the chain still recomputes
    reseal(sealed.out, manifest)

    verdict = verify(sealed.out)
    gone = ", ".join(str(row["id"]) for row in rows[:3])
    assert verdict.code == 1
    assert not any("chain does not recompute" in p for p in verdict.problems)
    assert "outcomes.json holds 5 attempt(s), manifest.json says 8" in verdict.problems
    assert f"outcomes.json's attempt ids differ from manifest.json's: missing {gone}" in (
        verdict.problems
    )


def test_index_html_edited_and_its_entry_dropped(sealed: Sealed) -> None:
    index = sealed.out / "index.html"
    index.write_text(index.read_text().replace("Dossier de preuves", "Rien à signaler"))
    manifest = manifest_of(sealed.out)
    manifest["files"] = [e for e in manifest["files"] if e["path"] != "index.html"]
    reseal(sealed.out, manifest)

    verdict = verify(sealed.out)
    assert verdict.code == 1
    assert "required file not listed in manifest.json: index.html" in verdict.problems
    assert "file not listed in manifest.json: index.html" in verdict.problems


def test_a_required_file_is_missing_from_the_folder_and_the_manifest(sealed: Sealed) -> None:
    (sealed.out / "outcomes.json").unlink()
    manifest = manifest_of(sealed.out)
    manifest["files"] = [e for e in manifest["files"] if e["path"] != "outcomes.json"]
    reseal(sealed.out, manifest)

    verdict = verify(sealed.out)
    assert verdict.code == 1
    assert "required file not listed in manifest.json: outcomes.json" in verdict.problems
    assert any(p.startswith("outcomes.json cannot be read") for p in verdict.problems)


def test_every_evidence_file_deleted_with_its_entry(sealed: Sealed) -> None:
    shutil.rmtree(sealed.out / "evidence")
    manifest = manifest_of(sealed.out)
    manifest["files"] = [e for e in manifest["files"] if not e["path"].startswith("evidence/")]
    reseal(sealed.out, manifest)

    verdict = verify(sealed.out)
    assert verdict.code == 1
    for outcome in sealed.outcomes:
        for path in outcome.evidence:
            said = (
                f"attempt {outcome.id}: evidence file {path} is neither in the dossier nor "
                "listed as not included"
            )
            assert said in verdict.problems
    assert len(verdict.problems) == sum(len(o.evidence) for o in sealed.outcomes)


def test_a_listed_evidence_file_deleted(sealed: Sealed) -> None:
    path = sealed.outcomes[-1].evidence[0]
    (sealed.out / "evidence" / path).unlink()

    verdict = verify(sealed.out)
    assert verdict.code == 1
    assert verdict.problems == [f"file listed in manifest.json is missing: evidence/{path}"]


def test_files_added_that_the_manifest_does_not_list(sealed: Sealed, tmp_path: Path) -> None:
    (sealed.out / "lettre.html").write_text("<p>créneaux disponibles</p>")
    forged = b"not a screenshot"
    digest = hashlib.sha256(forged).hexdigest()
    (sealed.out / "evidence" / digest[:2]).mkdir(exist_ok=True)
    (sealed.out / "evidence" / digest[:2] / f"{digest}.png").write_bytes(forged)
    (tmp_path / "elsewhere").mkdir()
    (sealed.out / "more").symlink_to(tmp_path / "elsewhere", target_is_directory=True)

    verdict = verify(sealed.out)
    assert verdict.code == 1
    assert sorted(verdict.problems) == sorted(
        [
            "file not listed in manifest.json: lettre.html",
            f"file not listed in manifest.json: evidence/{digest[:2]}/{digest}.png",
            "symbolic link in the folder: more",
        ]
    )


def test_a_manifest_path_climbing_out_absolute_or_a_link(sealed: Sealed, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("a file that is not in the dossier")
    digest = hashlib.sha256(outside.read_bytes()).hexdigest()
    (sealed.out / "capture.png").symlink_to(outside)
    manifest = manifest_of(sealed.out)
    manifest["files"] += [
        {"path": "../outside.txt", "sha256": digest, "size": outside.stat().st_size},
        {"path": str(outside), "sha256": digest, "size": outside.stat().st_size},
        {"path": "capture.png", "sha256": digest, "size": outside.stat().st_size},
    ]
    reseal(sealed.out, manifest)

    verdict = verify(sealed.out)
    assert verdict.code == 1
    assert "manifest.json lists a path that climbs out of the folder: ../outside.txt" in (
        verdict.problems
    )
    assert f"manifest.json lists a path that is absolute: {outside}" in verdict.problems
    assert "manifest.json lists a path that is a symbolic link: capture.png" in verdict.problems
    assert "symbolic link in the folder: capture.png" in verdict.problems


def test_a_consistent_rewrite_verifies_only_against_its_own_anchor(sealed: Sealed) -> None:
    """A forger who rewrites the manifest too leaves a folder that agrees with itself: the
    SHA-256 printed first is then not the one `monitor evidence` printed."""
    rows = rows_of(sealed.out)[:-3]
    write_rows(sealed.out, rows)
    manifest = manifest_of(sealed.out)
    manifest.update(
        attempts=len(rows), outcome_ids=[r["id"] for r in rows], last_chain=rows[-1]["chain"]
    )
    kept = {p for r in rows for p in r["evidence"]}
    manifest["files"] = [
        e
        for e in manifest["files"]
        if not e["path"].startswith("evidence/") or e["path"].removeprefix("evidence/") in kept
    ]
    for outcome in sealed.outcomes[-3:]:
        for path in outcome.evidence:
            if path not in kept:
                (sealed.out / "evidence" / path).unlink()
    reseal(sealed.out, manifest)

    alone = verify(sealed.out)
    assert alone.problems == [] and alone.lines[0] != f"manifest.json SHA-256: {sealed.anchor}"
    anchored = verify(sealed.out, sealed.anchor)
    assert anchored.code == 1
    assert anchored.problems == [
        f"manifest.json is not the expected one: SHA-256 {alone.lines[0].split()[-1]}, "
        f"expected {sealed.anchor}"
    ]


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"{not json", "manifest.json is not a dossier manifest: "),
        (b"[]", "manifest.json is not a dossier manifest: it is not a JSON object"),
        (b'{"files": []}', "manifest.json is not a dossier manifest: 'attempts' is missing"),
    ],
)
def test_a_broken_manifest_is_one_line_not_a_traceback(
    sealed: Sealed, content: bytes, said: str
) -> None:
    (sealed.out / "manifest.json").write_bytes(content)
    verdict = verify(sealed.out)
    assert verdict.code == 1
    assert verdict.lines[0] == f"manifest.json SHA-256: {hashlib.sha256(content).hexdigest()}"
    assert len(verdict.problems) == 1 and verdict.problems[0].startswith(said), verdict.lines
