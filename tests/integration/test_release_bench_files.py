"""bench/release_windows.py with files: a hand-watched CSV timeline replayed, a bad one refused
with its line, generated timelines exported as CSV that read back the same."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from release_timelines import SHAPES, generate, parse_csv, to_csv  # noqa: E402
from release_windows import main  # noqa: E402


def test_a_csv_timeline_is_replayed_against_the_three_schedules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    watched = tmp_path / "watched.csv"
    watched.write_text(to_csv(generate(SHAPES["morning"], weeks=2, seed=4)), encoding="utf-8")
    out = tmp_path / "results" / "table.md"
    code = main(["--shapes", "--csv", str(watched), "--learn-weeks", "1", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    rows = [line for line in printed.splitlines() if line.startswith(f"| {watched} |")]
    assert [row.split(" | ")[1] for row in rows[:3]] == ["even", "even plan", "learned"]
    assert len(rows) == 4  # and learned against even
    assert "1 weeks learned" in printed
    assert out.read_text(encoding="utf-8") + "\n" == printed


def test_a_bad_csv_is_refused_with_its_line_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    watched = tmp_path / "watched.csv"
    watched.write_text("local time,free slots\n2026-01-05 00:00,0\n2026-01-05 09:00,beaucoup\n")
    out = tmp_path / "table.md"
    code = main(["--shapes", "--csv", str(watched), "--out", str(out)])
    assert code == 2
    assert capsys.readouterr().err == (
        f"release_windows: {watched}:3: free slots 'beaucoup' is not a whole number >= 0\n"
    )
    assert not out.exists()


def test_a_csv_too_short_for_the_learning_weeks_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    watched = tmp_path / "watched.csv"
    watched.write_text("2026-01-05 00:00,0\n2026-01-06 12:00,3\n2026-01-08 00:00,0\n")
    assert main(["--shapes", "--csv", str(watched)]) == 2
    assert "covers 3.0 days; --learn-weeks 4 leaves nothing to measure" in capsys.readouterr().err


def test_an_unreadable_csv_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--shapes", "--csv", str(tmp_path / "missing.csv")]) == 2
    assert f"{tmp_path / 'missing.csv'}: cannot be read" in capsys.readouterr().err


def test_exported_timelines_read_back_the_same(tmp_path: Path) -> None:
    code = main(
        [
            "--shapes",
            "noise",
            "--seeds",
            "1",
            "--learn-weeks",
            "1",
            "--weeks",
            "1",
            "--export",
            str(tmp_path / "csv"),
        ]
    )
    assert code == 0
    exported = tmp_path / "csv" / "noise-seed1.csv"
    again = parse_csv(exported.read_text(encoding="utf-8"), source=str(exported))
    original = generate(SHAPES["noise"], weeks=2, seed=1)
    assert (again.changes, again.end) == (original.changes, original.end)
