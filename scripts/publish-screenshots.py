"""Screenshots of a published status page for the README (docs/publish-*.png).

    .venv/bin/monitor demo --duration 75 --interval 2 --publish /tmp/demo-site
    .venv/bin/python scripts/publish-screenshots.py /tmp/demo-site targets/93/naturalisation.html

Serves OUTDIR on 127.0.0.1 and drives the machine's Chromium (monitor.probes.chromium finds it).
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from monitor.probes.chromium import find_chromium
from monitor.publish.serve import serve_directory

DOCS = Path(__file__).resolve().parent.parent / "docs"


def main(site: str, target_page: str) -> None:
    DOCS.mkdir(exist_ok=True)
    with serve_directory(Path(site)) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800})
            for name, path in (("index", ""), ("target", target_page)):
                page.goto(base + path)
                page.screenshot(path=str(DOCS / f"publish-{name}.png"), full_page=True)
        finally:
            browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:3])
