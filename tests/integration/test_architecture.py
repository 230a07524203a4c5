"""The house by stage: imports go one way, and no module imports itself back in a circle.

The layers, top to bottom (README, "Where things are"). A module may import from its own
component and from any layer below; never from a layer above, never from a sibling in its
own layer. Imports inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "monitor"

#: Top to bottom; each inner tuple is one layer of independent components; a component is
#: one or more module prefixes that may import each other freely.
LAYERS: tuple[tuple[tuple[str, ...], ...], ...] = (
    (("monitor.__main__", "monitor.cli", "monitor.commands"),),
    (("monitor.daemon",),),
    (("monitor.console",),),  # the operator console: pages over the desk's views
    (("monitor.assist",),),  # assisted sessions: the daemon hands them their parts
    (("monitor.publish",),),
    (("monitor.attempt",), ("monitor.evidence",)),
    (("monitor.alerts",), ("monitor.reports",)),
    (("monitor.platforms",),),
    (("monitor.probes",),),
    (("monitor.store",),),
    (("monitor.config",),),
    (
        (
            "monitor",  # the root package itself (only __version__), not what it holds
            "monitor.domain",
            "monitor.errors",
            "monitor.details",
            "monitor.text",
            "monitor.logs",
            "monitor.printable",
        ),
        # The imitation of the booking sites models the sites, never our code.
        ("monitor.imitation",),
    ),
)

#: Not part of the application's graph: Alembic's environment and revisions.
IGNORED = ("monitor.migrations",)


def module_name(root: Path, path: Path) -> str:
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(root: Path) -> dict[str, set[str]]:
    """Each module of the package at ``root`` with the package's modules it imports."""
    files = {module_name(root, p): p for p in sorted(root.rglob("*.py"))}
    modules = {name for name in files if not name.startswith(IGNORED)}
    graph: dict[str, set[str]] = {}
    for name in modules:
        path = files[name]
        is_package = path.name == "__init__.py"
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(name, is_package, node.level, node.module)
                for alias in node.names:
                    # `from pkg import mod` depends on the module, `from pkg import name` on pkg
                    submodule = f"{base}.{alias.name}"
                    imported.add(submodule if submodule in modules else base)
        graph[name] = {m for m in imported if m in modules and m != name}
    return graph


def _absolute(module: str, is_package: bool, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    parts = module.split(".")
    if not is_package:
        parts.pop()
    parts = parts[: len(parts) - (level - 1)]
    return ".".join([*parts, target] if target else parts)


def _place(module: str, layers: Sequence[Sequence[Sequence[str]]]) -> tuple[int, int] | None:
    """(layer, component) of the longest prefix naming the module, or None."""
    best: tuple[int, int, int] | None = None
    for layer_index, layer in enumerate(layers):
        for component_index, component in enumerate(layer):
            for prefix in component:
                # the root package names only itself: its modules are placed one by one
                below = "." in prefix and module.startswith(prefix + ".")
                longer = best is None or len(prefix) > best[2]
                if (module == prefix or below) and longer:
                    best = (layer_index, component_index, len(prefix))
    return None if best is None else best[:2]


def layer_violations(
    graph: Mapping[str, Iterable[str]], layers: Sequence[Sequence[Sequence[str]]]
) -> list[str]:
    """Every import reaching up a layer or sideways into a sibling; every unplaced module."""
    problems: list[str] = []
    for module in sorted(graph):
        place = _place(module, layers)
        if place is None:
            problems.append(f"{module} is in no layer: add it to LAYERS")
            continue
        for imported in sorted(graph[module]):
            there = _place(imported, layers)
            if there is None or there == place:
                continue
            if there[0] < place[0]:
                problems.append(f"{module} imports {imported}, a layer above it")
            elif there[0] == place[0]:
                problems.append(f"{module} imports {imported}, a sibling in its own layer")
    return problems


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_imports_go_down_the_layers() -> None:
    assert layer_violations(import_graph(PACKAGE_ROOT), LAYERS) == []


def test_no_module_imports_itself_back_through_others() -> None:
    assert cycles(import_graph(PACKAGE_ROOT)) == []


def test_every_package_in_the_tree_is_in_the_readme_map() -> None:
    readme = (PACKAGE_ROOT.parent / "README.md").read_text(encoding="utf-8")
    packages = sorted(
        p.parent.relative_to(PACKAGE_ROOT.parent).as_posix()
        for p in PACKAGE_ROOT.rglob("__init__.py")
        if "migrations" not in p.parts and p.parent != PACKAGE_ROOT
    )
    missing = [p for p in packages if f"`{p}/`" not in readme]
    assert missing == []


# The checks themselves, on small trees written for the purpose: each must see its fault.


def _tree(root: Path, files: Mapping[str, str]) -> Path:
    package = root / "monitor"
    for relative, source in files.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return package


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"store/__init__.py": "", "store/rows.py": "from monitor.daemon import runner\n"},
            ["monitor.store.rows imports monitor.daemon.runner, a layer above it"],
        ),
        (
            {
                "alerts/__init__.py": "",
                "alerts/messages.py": "def f():\n    import monitor.reports.output\n",
            },
            ["monitor.alerts.messages imports monitor.reports.output, a sibling in its own layer"],
        ),
        (
            {"store/__init__.py": "", "store/rows.py": "from ..daemon.runner import Runner\n"},
            ["monitor.store.rows imports monitor.daemon.runner, a layer above it"],
        ),
        (
            {"daemon/__init__.py": "", "daemon/runner.py": "from monitor.store import rows\n"},
            [],
        ),
        ({"gadgets.py": ""}, ["monitor.gadgets is in no layer: add it to LAYERS"]),
    ],
    ids=["upward", "sideways-lazy", "upward-relative", "downward-is-fine", "unplaced"],
)
def test_the_layer_rule_names_each_wrong_import(
    tmp_path: Path, files: dict[str, str], expected: list[str]
) -> None:
    base = {
        "__init__.py": "",
        "daemon/__init__.py": "",
        "daemon/runner.py": "",
        "reports/__init__.py": "",
        "reports/output.py": "",
        "store/__init__.py": "",
        "store/rows.py": "",
    }
    package = _tree(tmp_path, {**base, **files})
    assert layer_violations(import_graph(package), LAYERS) == expected


def test_the_cycle_check_finds_a_cycle_through_a_lazy_import(tmp_path: Path) -> None:
    package = _tree(
        tmp_path,
        {
            "__init__.py": "",
            "evidence/__init__.py": "",
            "evidence/build.py": "def b():\n    from monitor.evidence import html\n",
            "evidence/html.py": "from monitor.evidence.build import b\n",
        },
    )
    assert cycles(import_graph(package)) == [["monitor.evidence.build", "monitor.evidence.html"]]
