"""A misspelt reason or detail code does not type-check: mypy --strict, run on a snippet.

Before, ``ProbeError.reason`` was a ``str`` and a typo was recorded as the monitor's own
fault at run time. The snippet's good lines must pass and each bad line must fail, naming
what is wrong, so the test fails both if the types loosen and if the snippet rots.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SNIPPET = """\
from monitor.domain import Detail, Reason
from monitor.errors import MonitorFault, ProbeError

ProbeError(Reason.UNRECOGNIZED, Detail("no_element", {"url": "https://x/"}))
MonitorFault(Reason.INTERNAL, "a plain message is the fault code's")
ProbeError("unrecognized", Detail("no_element"))
ProbeError(Reason.UNRECOGNISED, "british spelling")
ProbeError(Reason.BLOCKED, Detail("destination_refusd"))
reason: Reason = ProbeError(Reason.TIMEOUT, "x").reason
"""

#: Each bad line of the snippet, and words its error must hold.
EXPECTED = {
    6: ('Argument 1 to "ProbeError"', '"Reason"'),
    7: ('"UNRECOGNISED"',),
    8: ('Argument 1 to "Detail"', "destination_refusd"),
}


def test_mypy_refuses_a_misspelt_reason_or_detail_code(tmp_path: Path) -> None:
    snippet = tmp_path / "kinds_snippet.py"
    snippet.write_text(SNIPPET, encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--follow-imports",
            "silent",  # the monitor package is checked by `make typecheck`; here the snippet
            "--no-error-summary",
            "--hide-error-context",
            str(snippet),
        ],
        cwd=ROOT,
        env={"MYPYPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    errors: dict[int, str] = {}
    for line in result.stdout.splitlines():
        found = re.match(rf"{re.escape(str(snippet))}:(\d+): error: (.*)", line)
        assert found, f"not a snippet error: {line}\n{result.stderr}"
        errors[int(found[1])] = errors.get(int(found[1]), "") + found[2]
    assert result.returncode == 1, result.stdout + result.stderr
    assert set(errors) == set(EXPECTED), result.stdout
    for number, words in EXPECTED.items():
        for word in words:
            assert word in errors[number], f"line {number}: {errors[number]}"
