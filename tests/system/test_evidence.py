"""Evidence files (monitor.store.evidence); the hash chain is in tests/unit/test_chain.py."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from monitor.store.evidence import (
    evidence_digest,
    verify_file,
    write_evidence,
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


def test_it_stores_files_under_their_own_digest(tmp_path: Path) -> None:
    html = "<html><body>Préfecture</body></html>"
    record = write_evidence(tmp_path, html=html, screenshot=PNG)

    html_digest = hashlib.sha256(html.encode()).hexdigest()
    png_digest = hashlib.sha256(PNG).hexdigest()
    assert set(record.paths) == {
        f"{html_digest[:2]}/{html_digest}.html",
        f"{png_digest[:2]}/{png_digest}.png",
    }
    assert list(record.paths) == sorted(record.paths)
    assert (tmp_path / f"{html_digest[:2]}/{html_digest}.html").read_text() == html
    assert (tmp_path / f"{png_digest[:2]}/{png_digest}.png").read_bytes() == PNG


def test_it_digests_the_evidence_like_sha256sum(tmp_path: Path) -> None:
    record = write_evidence(tmp_path, html="<p>no slot</p>", screenshot=PNG)

    lines = sorted(
        f"{hashlib.sha256((tmp_path / p).read_bytes()).hexdigest()}  {p}\n" for p in record.paths
    )
    assert record.sha256 == hashlib.sha256("".join(lines).encode()).hexdigest()
    assert evidence_digest(reversed(record.paths)) == record.sha256


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="coreutils sha256sum not found")
def test_it_matches_the_recipe_given_to_a_court_expert(tmp_path: Path) -> None:
    record = write_evidence(tmp_path, html="<p>maintenance</p>", screenshot=PNG)

    listing = subprocess.run(
        ["sha256sum", *record.paths], cwd=tmp_path, check=True, capture_output=True
    ).stdout
    by_path = sorted((line[66:], line) for line in listing.splitlines(keepends=True))
    ordered = b"".join(line for _, line in by_path)
    assert hashlib.sha256(ordered).hexdigest() == record.sha256


def test_it_keeps_an_empty_page_but_not_a_missing_one(tmp_path: Path) -> None:
    empty = write_evidence(tmp_path, html="", screenshot=None)
    nothing = write_evidence(tmp_path, html=None, screenshot=None)

    assert len(empty.paths) == 1 and empty.sha256 is not None
    assert nothing.paths == () and nothing.sha256 is None


def test_it_writes_identical_pages_once(tmp_path: Path) -> None:
    first = write_evidence(tmp_path, html="<p>same</p>", screenshot=None)
    path = tmp_path / first.paths[0]
    before = path.stat()

    second = write_evidence(tmp_path, html="<p>same</p>", screenshot=None)

    assert second == first
    assert path.stat().st_ino == before.st_ino
    assert path.stat().st_mtime_ns == before.st_mtime_ns


def test_it_never_leaves_a_half_written_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("monitor.store.evidence.os.fsync", disk_full)

    with pytest.raises(OSError, match="No space left"):
        write_evidence(tmp_path, html="<p>slots</p>", screenshot=None)

    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_it_leaves_only_final_files_after_writing(tmp_path: Path) -> None:
    record = write_evidence(tmp_path, html="<p>x</p>", screenshot=PNG)

    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == sorted(record.paths)
    assert all(os.stat(tmp_path / p).st_size > 0 for p in record.paths)


def test_it_verifies_a_file_against_the_digest_in_its_name(tmp_path: Path) -> None:
    record = write_evidence(tmp_path, html="<p>calendar</p>", screenshot=PNG)
    html_path = next(p for p in record.paths if p.endswith(".html"))

    assert all(verify_file(tmp_path, p) for p in record.paths)

    (tmp_path / html_path).write_text("<p>edited</p>")
    assert not verify_file(tmp_path, html_path)
    assert not verify_file(tmp_path, "ab/" + "ab" * 32 + ".png")  # missing
    assert not verify_file(tmp_path, "../" + html_path)  # outside the evidence directory
    assert not verify_file(tmp_path, "/etc/passwd")
