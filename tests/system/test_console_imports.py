"""The console's libraries (starlette, uvicorn) and the console itself are loaded only by
`monitor run` with `settings.console` set: never by `--help`, `status`, `config validate`,
nor by any module at import time (issue 30's import lists, tests/system/test_cli_imports.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from daemonrig import daemon_config
from helpers import Database
from test_cli_imports import imported, run_and_list

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ("starlette", "uvicorn", "monitor.console")


@pytest.fixture
def config(tmp_path: Path, database: Database) -> Path:
    return daemon_config(
        tmp_path / "prefectures.yaml",
        targets=[{"id": "a", "platform": "rdv-service-public", "url": "http://127.0.0.1:1/a"}],
        database=database.url,
        interval="10m",
    )


@pytest.mark.parametrize(
    "args",
    [("--help",), ("run", "--help"), ("status",), ("config", "validate")],
    ids=["help", "run-help", "status", "config-validate"],
)
def test_no_command_without_a_console_loads_it(
    tmp_path: Path, config: Path, args: tuple[str, ...]
) -> None:
    code, modules, _ = run_and_list(tmp_path, "--config", str(config), *args)
    assert code == 0
    assert imported(modules, CONSOLE) == []


def top_level_console_imports(source: str) -> list[int]:
    """Lines importing monitor.console outside a function body (so at import time)."""
    tree = ast.parse(source)
    lazy: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lazy.update(id(inner) for inner in ast.walk(node))
    lines = []
    for node in ast.walk(tree):
        if id(node) in lazy:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        if any(name == "monitor.console" or name.startswith("monitor.console.") for name in names):
            lines.append(node.lineno)
    return lines


def test_outside_its_package_the_console_is_imported_only_inside_functions() -> None:
    eager = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "monitor").rglob("*.py"))
        if "console" not in path.relative_to(ROOT / "monitor").parts
        for line in top_level_console_imports(path.read_text(encoding="utf-8"))
    ]
    assert eager == []


def test_the_check_sees_an_eager_import() -> None:
    source = (
        "import os\nfrom monitor.console import build_console\n"
        "def f():\n    import monitor.console\n"
    )
    assert top_level_console_imports(source) == [2]
