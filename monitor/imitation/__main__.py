"""``python -m monitor.imitation [--host H] [--port P] [--scenario KEY=NAME[:JSON]] [--catalogue]``.

Serves the imitation until Ctrl-C and prints its base URL first. ``--scenario`` may repeat,
e.g. ``--scenario '4401=slots:{"count": 3}'``; ``--catalogue`` installs every case of the
catalogue. Scenarios can also be changed while it runs: ``POST /_imitation/scenario``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from monitor.imitation.catalogue import CATALOGUE
from monitor.imitation.server import ScenarioSpec, serve


def _scenario(text: str) -> tuple[str, tuple[str, dict[str, Any]]]:
    key, sep, rest = text.partition("=")
    if not sep or not key or not rest:
        raise argparse.ArgumentTypeError(f"expected KEY=NAME[:JSON], got {text!r}")
    name, _, params = rest.partition(":")
    try:
        parsed = json.loads(params) if params else {}
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"bad JSON params in {text!r}: {error}") from None
    if not isinstance(parsed, dict):
        raise argparse.ArgumentTypeError(f"params must be a JSON object in {text!r}")
    return key, (name, parsed)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m monitor.imitation",
        description="Serve the local imitation of the booking sites until Ctrl-C.",
        epilog="Scenarios can also be changed while it runs: POST /_imitation/scenario.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="a 127.x.x.x address")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument(
        "--scenario",
        type=_scenario,
        action="append",
        default=[],
        metavar="KEY=NAME[:JSON]",
        help="give a key a scenario, e.g. '4401=slots:{\"count\": 3}'; may repeat",
    )
    parser.add_argument("--catalogue", action="store_true", help="install every catalogue case")
    args = parser.parse_args(argv)
    scenarios: dict[str, ScenarioSpec] = {}
    if args.catalogue:
        scenarios.update({case.key: (case.scenario, case.params) for case in CATALOGUE})
    scenarios.update(dict(args.scenario))
    try:
        serve(args.host, args.port, scenarios)
    except ValueError as error:
        parser.error(str(error))


if __name__ == "__main__":
    main()
