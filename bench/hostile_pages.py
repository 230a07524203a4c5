"""CPU of reading each hostile page, before (a baseline commit) and after, in one run.

    .venv/bin/python bench/hostile_pages.py [--baseline 66b9681] [--limit 300] [--only NAME…]

The pages are the imitation's hostile site (``monitor/imitation/hostile.py``). For each,
what one probe of an rdv-prefecture target on the http engine does with the page it lands
on: the flow's ``Page`` of it, then recognition (``rdv_prefecture.recognise``), within the
probe's parsing scope when the tree has one. Timed as process CPU (every thread counted)
in a fresh interpreter per page and tree: the tree of this checkout, and the baseline
commit's ``monitor`` package extracted with ``git archive`` into a temporary directory (its
own code, not a copy kept here). A measurement running past ``--limit`` seconds is stopped
and shown as more than that. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CONFIG = textwrap.dedent(
    """\
    version: 1
    settings: {database: "sqlite:///unused.db"}
    prefectures:
      - id: "t"
        name: "Préfecture de test"
        targets:
          - {id: "hostile", name: "hostile", platform: rdv-prefecture, engine: http,
             url: "http://127.0.0.1:9/rdvpref/reservation/demarche/1/"}
    """
)

MEASURE = textwrap.dedent(
    """\
    import contextlib, json, sys, time
    from pathlib import Path
    from monitor.config import load_config
    from monitor.domain import PageSnapshot
    from monitor.platforms import page as page_module, rdv_prefecture
    config_path, html_path = sys.argv[1], sys.argv[2]
    target = load_config(Path(config_path), env={}).targets()[0]
    html = Path(html_path).read_text(encoding="utf-8")
    snapshot = PageSnapshot(target.url, target.url, 200, html)
    scope = getattr(page_module, "parsing_scope", contextlib.nullcontext)
    began = time.process_time()
    with scope():
        page_module.Page(snapshot)  # the flow reads the landing
        found = rdv_prefecture.recognise(snapshot, target)
    cpu = time.process_time() - began
    print(json.dumps({"cpu": cpu, "finding": f"{found.status}/{found.reason}",
                      "code": found.detail.code}))
    """
)


#: A legacy "Choix d'une plage" page of the hostile corpus: what both engines do with it
#: first, find its calendar's endpoint (``legacy_calendar.endpoint_of``) for the desk.
MEASURE_CALENDAR = textwrap.dedent(
    """\
    import contextlib, json, sys, time
    from pathlib import Path
    from monitor.domain import PageSnapshot
    from monitor.platforms import legacy_calendar, page as page_module
    html = Path(sys.argv[2]).read_text(encoding="utf-8")
    url = "http://127.0.0.1:9/hostile-corpus/x/booking/create/9001/3"
    snapshot = PageSnapshot(url, url, 200, html)
    scope = getattr(page_module, "parsing_scope", contextlib.nullcontext)
    began = time.process_time()
    with scope():
        found = legacy_calendar.endpoint_of(page_module.Page(snapshot), "4421")
    cpu = time.process_time() - began
    print(json.dumps({"cpu": cpu, "finding": "endpoint found" if found else "no endpoint",
                      "code": ""}))
    """
)
#: The hostile corpus's calendar pages (``monitor/imitation/hostile_corpus.py``).
CALENDAR_PAGES = ("inline-image-calendar", "planning-word-calendar")


def measure(
    tree: Path, config: Path, html: Path, limit: float, script: str = MEASURE
) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    try:
        done = subprocess.run(
            [sys.executable, "-c", script, str(config), str(html)],
            capture_output=True,
            text=True,
            timeout=limit,
            env=env,
            check=True,
            cwd=tree,
        )
    except subprocess.TimeoutExpired:
        return {"cpu": None, "finding": f"stopped after {limit:.0f} s", "code": ""}
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", default="66b9681", help="commit to compare with")
    parser.add_argument("--limit", type=float, default=300.0, help="seconds per measurement")
    parser.add_argument("--only", nargs="*", default=None, help="names of the pages to time")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from monitor.imitation.hostile import PAGES
    from monitor.imitation.hostile_corpus import calendar_page_html

    pages = [(name, make, MEASURE) for name, make in PAGES.items()]
    pages += [
        (name, lambda name=name: calendar_page_html(name), MEASURE_CALENDAR)
        for name in CALENDAR_PAGES
    ]

    with tempfile.TemporaryDirectory(prefix="hostile-bench-") as work:
        base = Path(work) / "baseline"
        base.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.baseline, "monitor"],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        config = Path(work) / "prefectures.yaml"
        config.write_text(CONFIG, encoding="utf-8")
        print(f"baseline {args.baseline} against this checkout; CPU seconds per page")
        print()
        print("| page | size | before: CPU s | before: finding | after: CPU s | after: finding |")
        print("| --- | --- | --- | --- | --- | --- |")
        for name, make, script in pages:
            if args.only is not None and name not in args.only:
                continue
            html = Path(work) / f"{name}.html"
            html.write_text(make(), encoding="utf-8")
            size = f"{html.stat().st_size / 1024:,.0f} KiB"
            cells = []
            for tree in (base, ROOT):
                got = measure(tree, config, html, args.limit, script)
                cpu = got["cpu"]
                shown = f"> {args.limit:.0f}" if cpu is None else f"{float(str(cpu)):.2f}"
                code = f" ({got['code']})" if got["code"] else ""
                cells += [shown, f"{got['finding']}{code}"]
            print(f"| {name} | {size} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
