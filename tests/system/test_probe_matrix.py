"""Every imitation scenario through the real ``monitor check``, with both engines.

One table: for each catalogue case and each engine, the outcome ``monitor check`` prints
must have the catalogue's status and reason (``expectation``: client-rendered pages are an
empty app shell to the http engine), and carry its evidence, digest and chain.

To stay fast, everything runs in two concurrent ``monitor check`` invocations on one shared
imitation site: one config holds a target per (case, engine); the ``slow`` cases run on their
own with a short probe timeout (their answer comes after 30 s), the others with the default
45 s, roomy enough for multi-desk browser flows on a busy two-core CI machine. One Chromium
serves all browser targets of a run (a browser probe costs about a core-second: a fresh
context per probe is what keeps probes independent).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from browsers import chromium_or_none
from checkrun import Run, monitor, write_config
from helpers import migrated
from wording import english_in

from monitor.details import from_json, known, record_line, render
from monitor.imitation import CATALOGUE, ImitationSite, expectation
from monitor.imitation.case import Case
from monitor.store.evidence import evidence_digest, verify_file

PARIS = ZoneInfo("Europe/Paris")
ENGINES = ("http", "browser")
PAIRS = [(case, engine) for case in CATALOGUE for engine in ENGINES]
#: Probes that never get an answer leave nothing to keep as evidence.
NO_PAGE_REASONS = {"timeout", "connection"}


def target_id(index: int, engine: str) -> str:
    return f"case-{index:03d}-{engine}"


@dataclass(frozen=True)
class Matrix:
    """What the two ``monitor check`` runs printed, by target id."""

    rows: dict[str, dict[str, Any]]
    runs: tuple[Run, ...]
    evidence_dir: Path
    chromium: str | None


def _run(
    tmp: Path, name: str, site: ImitationSite, pairs: list[tuple[int, str]], **options: Any
) -> Run:
    """``monitor check`` on a config with one target per (case index, engine)."""
    targets = [
        {
            "id": target_id(index, engine),
            "name": CATALOGUE[index].id,
            "platform": CATALOGUE[index].platform,
            "url": site.base_url + CATALOGUE[index].path,
            "engine": engine,
        }
        for index, engine in pairs
    ]
    config = write_config(tmp / f"{name}.yaml", targets=targets, **options)
    run = monitor("--config", str(config), "check", "--format", "json")
    assert run.code == 0, run.stderr
    return run


@pytest.fixture(scope="module")
def matrix(imitation: ImitationSite, tmp_path_factory: pytest.TempPathFactory) -> Matrix:
    tmp = tmp_path_factory.mktemp("matrix")
    database = migrated(tmp / "monitor.db")
    chromium = chromium_or_none()
    engines = ENGINES if chromium else ("http",)
    indexed = [(i, e) for i, case in enumerate(CATALOGUE) for e in engines]
    slow = [(i, e) for i, e in indexed if CATALOGUE[i].scenario == "slow"]
    common = {"database": database, "evidence_dir": tmp / "evidence", "chromium": chromium}
    with ThreadPoolExecutor(2) as pool:
        main = pool.submit(
            _run, tmp, "main", imitation, [p for p in indexed if p not in slow], **common
        )
        timed_out = pool.submit(_run, tmp, "slow", imitation, slow, probe_timeout="3s", **common)
        runs = (main.result(), timed_out.result())
    rows = {row["target"].split("/", 1)[1]: row for run in runs for row in run.rows()}
    return Matrix(rows, runs, tmp / "evidence", chromium)


def _row(matrix: Matrix, case: Case, engine: str) -> dict[str, Any]:
    if engine == "browser" and matrix.chromium is None:
        pytest.skip("no Chromium on this machine: browser cases not run")
    return matrix.rows[target_id(CATALOGUE.index(case), engine)]


def _desks_with_slots(case: Case) -> int:
    """How many desks show slots: the outcome's slot_count adds the desks' counts."""
    if case.platform != "legacy-booking":
        return 1
    desks = [str(d) for d in case.params.get("desks", (4411, 4412))]
    per_desk = {str(k): int(v) for k, v in dict(case.params.get("desk_slots") or {}).items()}
    default = int(case.params.get("count", 3))
    return sum(1 for desk in desks if per_desk.get(desk, default) > 0)


@pytest.mark.parametrize(
    ("case", "engine"), PAIRS, ids=[f"{case.id}-{engine}" for case, engine in PAIRS]
)
def test_check_reports_the_catalogue_outcome(matrix: Matrix, case: Case, engine: str) -> None:
    row = _row(matrix, case, engine)
    assert (row["status"], row["reason"]) == expectation(case, engine), row["detail"]
    assert row["engine"] == engine
    if engine in case.engines and case.expected_slot_count is not None:
        # The catalogue counts one desk's calendar; the outcome adds every desk's.
        assert row["slot_count"] == case.expected_slot_count * _desks_with_slots(case)
    if engine in case.engines and case.expected_earliest_slot is not None:
        expected = datetime.fromisoformat(case.expected_earliest_slot)
        assert datetime.fromisoformat(row["earliest_slot"]) == expected


@pytest.mark.parametrize(
    ("case", "engine"), PAIRS, ids=[f"{case.id}-{engine}" for case, engine in PAIRS]
)
def test_check_rows_carry_evidence_digest_and_chain(
    matrix: Matrix, case: Case, engine: str
) -> None:
    row = _row(matrix, case, engine)
    assert re.fullmatch(r"[0-9a-f]{64}", row["chain"])
    if row["reason"] in NO_PAGE_REASONS and not row["evidence"]:
        assert row["sha256"] is None  # no answer came: nothing to keep
        return
    assert row["evidence"], row
    assert row["sha256"] == evidence_digest(row["evidence"])
    for relpath in row["evidence"]:
        assert verify_file(matrix.evidence_dir, relpath), relpath
    kinds = {path.rsplit(".", 1)[1] for path in row["evidence"]}
    assert "html" in kinds
    if engine == "browser":
        assert "png" in kinds  # the browser's full-page screenshot of the final page


@pytest.mark.parametrize(
    ("case", "engine"), PAIRS, ids=[f"{case.id}-{engine}" for case, engine in PAIRS]
)
def test_check_rows_carry_a_detail_a_french_reader_reads_in_french(
    matrix: Matrix, case: Case, engine: str
) -> None:
    """The record line is the English of the stored code and values; rendered in French,
    only the page's quoted words and technical names are left untranslated."""
    row = _row(matrix, case, engine)
    detail = from_json({"code": row["detail_code"], "args": row["detail_args"]})
    assert known(detail), row
    assert record_line(detail) == row["detail"]
    french = render(detail, "fr", PARIS)
    assert not english_in(french), french


def test_no_non_slot_scenario_is_ever_available(matrix: Matrix) -> None:
    checked = 0
    for case, engine in PAIRS:
        if engine == "browser" and matrix.chromium is None:
            continue
        if expectation(case, engine)[0] == "available":
            continue
        row = matrix.rows[target_id(CATALOGUE.index(case), engine)]
        assert row["status"] != "available", (case.id, engine, row["detail"])
        checked += 1
    assert checked > 100


def test_one_check_launches_chromium_once_for_every_browser_target(matrix: Matrix) -> None:
    if matrix.chromium is None:
        pytest.skip("no Chromium on this machine")
    main = matrix.runs[0]
    browser_rows = [row for row in main.rows() if row["engine"] == "browser"]
    assert len(browser_rows) >= 3
    launches = re.findall(r"Chromium launched (\d+) time\(s\)", main.stderr)
    assert launches == ["1"], main.stderr
