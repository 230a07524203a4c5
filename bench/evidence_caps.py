"""The browser engine's evidence on two hostile pages: uncapped (before) and capped (after).

    .venv/bin/python bench/evidence_caps.py before   # page.content(), full-page screenshot
    .venv/bin/python bench/evidence_caps.py after    # monitor.probes._page_read.PageReader
    # from the repository root, with tests/ on the path for the pages; about 30 s each

The pages are those of tests/system/test_browser_evidence_caps.py, served on 127.0.0.1: GIANT (a
129-byte page whose script builds 64 MiB of hidden text) and TALL (a 150,074 px tall page).
For each: what was read, how long reading took (Chromium shared with other jobs: compare
orders of magnitude, not digits), and this Python process's peak RSS at the end.
"""

from __future__ import annotations

import asyncio
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "system"))

from playwright.async_api import async_playwright
from sitefixture import Reply, serve
from test_browser_evidence_caps import CHROMIUM, GIANT, TALL, png_size

from monitor.errors import ProbeError
from monitor.probes._devtools import DevTools
from monitor.probes._page_read import PageReader


async def main(which: str) -> None:
    assert CHROMIUM is not None
    with serve({"/giant": Reply(GIANT), "/tall": Reply(TALL)}) as site:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM)
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            cdp = DevTools(await page.context.new_cdp_session(page))
            tree = await cdp.send("Page.getFrameTree")
            reader = PageReader(page, cdp, main_frame_id=tree["frameTree"]["frame"]["id"])
            await page.goto(site.url("/giant"))
            started = time.monotonic()
            if which == "before":
                read = f"{len((await page.content()).encode())} bytes of HTML"
            else:
                try:
                    read = f"{len((await reader.html()).encode())} bytes of HTML"
                except ProbeError as exc:
                    read = f"ProbeError({exc.reason}, {exc.detail.code})"
            print(f"{which} giant: {read} in {time.monotonic() - started:.2f} s")
            await page.goto(site.url("/tall"))
            started = time.monotonic()
            if which == "before":
                png = await page.screenshot(full_page=True)
            else:
                png, _cut = await reader.screenshot()
            width, height = png_size(png)
            elapsed = time.monotonic() - started
            print(f"{which} tall: PNG {width} × {height} px, {len(png)} bytes in {elapsed:.2f} s")
            await browser.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{which}: Python peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    if sys.argv[1:] not in (["before"], ["after"]):
        sys.exit("usage: bench/evidence_caps.py before|after")
    asyncio.run(main(sys.argv[1]))
