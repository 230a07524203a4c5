"""Every detail code the source writes or compares has its words in the catalogue.

mypy already refuses a code outside :data:`~monitor.domain.DetailCode` where a code is typed;
this test reads the source itself (its syntax tree, not its text), so it also sees codes
that pass through ``str`` (a comparison with ``detail.code``) and codes built at run time,
which nothing could check and which are refused here.

Where a code is, in the syntax tree of every module of ``monitor``:
- the first argument (or ``code=``) of ``Detail(...)``;
- an argument of a function whose parameter is annotated with a code type, and its default;
- a value returned where the return annotation holds a code type (``tuple[DetailCode, str]``);
- the other side of a comparison with an attribute named ``code``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from monitor.details import CODES

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "monitor"
CODE_TYPES = frozenset({"DetailCode", "PageCode", "FaultCode"})


@dataclass(frozen=True)
class Use:
    """One place a code is written: the code, or None when it is built at run time."""

    code: str | None
    where: str  #: "monitor/x.py:LINE"


def _names_a_code_type(annotation: ast.expr | None) -> bool:
    return annotation is not None and any(
        isinstance(node, ast.Name) and node.id in CODE_TYPES for node in ast.walk(annotation)
    )


def _strings(node: ast.expr, where: str) -> Iterator[Use]:
    """The codes an expression stands for: constants (either branch of an ``if``, each of a
    tuple or set); an f-string or a concatenation is a code built at run time; a name, call or
    attribute passes on a value typed elsewhere."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield Use(node.value, where)
    elif isinstance(node, ast.IfExp):
        yield from _strings(node.body, where)
        yield from _strings(node.orelse, where)
    elif isinstance(node, ast.Tuple | ast.List | ast.Set):
        for element in node.elts:
            yield from _strings(element, where)
    elif isinstance(node, ast.JoinedStr | ast.BinOp):
        yield Use(None, where)


@dataclass(frozen=True)
class Takes:
    """Where a function takes a code: its positional index (``self`` left out) and name."""

    index: int
    name: str


def _code_parameters(trees: dict[str, ast.Module]) -> dict[str, list[Takes]]:
    """Each function (by name) with a parameter annotated with a code type; ``Detail`` too."""
    taking: dict[str, list[Takes]] = {"Detail": [Takes(0, "code")]}
    for tree in trees.values():
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            positional = [*node.args.posonlyargs, *node.args.args]
            if positional and positional[0].arg in {"self", "cls"}:
                positional = positional[1:]
            for index, arg in enumerate(positional):
                if _names_a_code_type(arg.annotation):
                    taking.setdefault(node.name, []).append(Takes(index, arg.arg))
            for arg in node.args.kwonlyargs:
                if _names_a_code_type(arg.annotation):
                    taking.setdefault(node.name, []).append(Takes(-1, arg.arg))
    return taking


def _called(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _defaults(node: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[tuple[ast.arg, ast.expr]]:
    positional = [*node.args.posonlyargs, *node.args.args]
    yield from zip(
        positional[len(positional) - len(node.args.defaults) :], node.args.defaults, strict=True
    )
    for arg, default in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True):
        if default is not None:
            yield arg, default


def _returned(node: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.expr]:
    """The returned expressions that are codes, by the return annotation's shape."""
    annotation = node.returns
    if not _names_a_code_type(annotation):
        return
    slots: list[int] | None = None  # None: the whole value is a code
    if isinstance(annotation, ast.Subscript) and isinstance(annotation.slice, ast.Tuple):
        slots = [i for i, e in enumerate(annotation.slice.elts) if _names_a_code_type(e)]
    for inner in ast.walk(node):
        if not isinstance(inner, ast.Return) or inner.value is None:
            continue
        if slots is not None and isinstance(inner.value, ast.Tuple):
            yield from (inner.value.elts[i] for i in slots if i < len(inner.value.elts))
        else:
            yield inner.value


def uses(trees: dict[str, ast.Module]) -> list[Use]:
    """Every place in ``trees`` (relative path → module) a detail code is written."""
    taking = _code_parameters(trees)
    found: list[Use] = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            where = f"{path}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Call) and _called(node) in taking:
                for takes in taking[_called(node) or ""]:
                    if 0 <= takes.index < len(node.args):
                        found += _strings(node.args[takes.index], where)
                    for keyword in node.keywords:
                        if keyword.arg == takes.name:
                            found += _strings(keyword.value, where)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for arg, default in _defaults(node):
                    if _names_a_code_type(arg.annotation):
                        found += _strings(default, where)
                for value in _returned(node):
                    found += _strings(value, f"{path}:{value.lineno}")
            elif isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                if any(isinstance(s, ast.Attribute) and s.attr == "code" for s in sides):
                    for side in sides:
                        found += _strings(side, where)
    return found


def source_trees() -> dict[str, ast.Module]:
    return {
        str(path.relative_to(PACKAGE_ROOT.parent)): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(PACKAGE_ROOT.rglob("*.py"))
    }


def test_every_code_used_in_the_source_has_its_words() -> None:
    found = uses(source_trees())
    unworded = sorted(f"{use.where}: {use.code!r}" for use in found if use.code not in CODES)
    assert not unworded, "codes without words in monitor.details (None: built at run time):\n" + (
        "\n".join(unworded)
    )


def test_the_search_finds_codes_by_every_route() -> None:
    """Each route above finds what it must in today's source, so the test cannot pass by
    finding nothing."""
    found: dict[str | None, set[str]] = {}
    for use in uses(source_trees()):
        found.setdefault(use.code, set()).add(use.where.split(":")[0])
    assert len(found) > 60 and None not in found
    assert "monitor/probes/forms.py" in found["no_element"]  # Detail("…")
    assert "monitor/probes/_browser_session.py" in found["doing.load"]  # _doing("doing.load")
    assert "monitor/attempt/record.py" in found["screenshot_cut"]  # _flagged(…, "…")
    assert "monitor/platforms/common.py" in found["unknown_page"]  # a parameter's default
    assert "monitor/probes/http.py" in found["tls_failure"]  # returned as a code
    assert "monitor/attempt/classify.py" in found["too_deep"]  # compared with detail.code


def test_a_misspelt_or_built_code_is_found_on_every_route() -> None:
    source = """
def unrecognized(page, code: DetailCode = "unknown_pgae") -> Finding: ...
def _what(exc) -> tuple[DetailCode, str]:
    return "tls_failur", str(exc)
Detail("no_elemnt", {})
Detail(code="maintenace")
unrecognized(page, "too_dep")
ok = seen.detail.code == "to_deep"
Detail(f"doing.{step}", {})
Detail(passed_on, {})
"""
    found = uses({"monitor/x.py": ast.parse(source)})
    assert sorted((use.code or "", int(use.where.split(":")[1])) for use in found) == [
        ("", 9),
        ("maintenace", 6),
        ("no_elemnt", 5),
        ("tls_failur", 4),
        ("to_deep", 8),
        ("too_dep", 7),
        ("unknown_pgae", 2),
    ]
