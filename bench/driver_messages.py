"""Count the messages Playwright's driver sends Python for two probes of the browser engine.

    PYTHONPATH=$PWD .venv/bin/python bench/driver_messages.py ["SWITCH"]

One legacy-booking target (two desks: six page loads, 36 images) and one rdv-service-public
target on the local imitation, through the daemon's path (``probes.daemon_engine``); after
one warm-up round, every message of the second round is counted by method (DevTools events
of the session by their own method, "cdp:Network.…"). ``SWITCH``: one of ``probes.SWITCHES``
for that round, e.g. "before: all of this branch". Counts, not timings: they do not depend
on the machine's load.
"""

from __future__ import annotations

import asyncio
import collections
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import probes
from playwright._impl import connection

COUNTS: collections.Counter[str] = collections.Counter()
_dispatch = connection.Connection.dispatch


def counted(self: Any, message: dict[str, Any]) -> None:
    method = str(message.get("method") or ("(reply)" if "id" in message else "?"))
    if method == "event":
        method = "cdp:" + str(message["params"]["method"])
    COUNTS[method] += 1
    _dispatch(self, message)


async def main(switch: str | None) -> None:
    connection.Connection.dispatch = counted  # type: ignore[method-assign]
    workdir = Path(tempfile.mkdtemp(prefix="driver-messages-"))
    with probes.imitation() as base:
        async with probes.daemon_engine(base, 2, "browser", 2, workdir, switch=switch) as run:
            await run()
            COUNTS.clear()
            await run()
    print(f"switch: {switch or 'none'}; messages to Python for 2 probes: {sum(COUNTS.values())}")
    for method, count in COUNTS.most_common():
        print(f"{count:6d} {method}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else None))
