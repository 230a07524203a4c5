"""The config's YAML is read by libyaml's parser when PyYAML has it, and a document it
refuses is read again by PyYAML's own: the values are the same, and every message is
PyYAML's (libyaml words a tab as "found character that cannot start any token")."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from monitor.config import source
from monitor.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

DOCUMENTS = [
    (ROOT / "prefectures.yaml").read_text(encoding="utf-8"),
    "when: 2026-01-01\noctal: 0o17\nbig: 1_000\nyes_: yes\nnull_: ~\nfloat: 1e3\n",
    "base: &base {a: 1, b: [x, y]}\nother:\n  <<: *base\n  b: z\n",
    "text: |\n  two\n  lines\nfolded: >\n  one\n  line\n",
]


def test_pyyaml_here_has_libyaml() -> None:
    assert yaml.__with_libyaml__
    assert source._FastUniqueKeyLoader is not None


@pytest.mark.parametrize("document", DOCUMENTS, ids=["shipped", "scalars", "merge", "blocks"])
def test_libyaml_reads_the_same_values_as_pyyaml(tmp_path: Path, document: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(document, encoding="utf-8")

    read = source.read_yaml(path, "c.yaml", "a test")

    assert read == yaml.load(document, Loader=yaml.SafeLoader)  # the pure-Python parser


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            "a:\n\t- b\n",
            "line 2, column 1: a tab character is used for indentation; YAML needs spaces",
        ),
        ("x: 1\nz: <<: 1\n", "line 2, column 6: invalid YAML: mapping values are not allowed here"),
        ("a: 1\na: 2\n", "line 2, column 1: invalid YAML: found the duplicate key 'a'"),
    ],
    ids=["tab", "mapping value", "duplicate key"],
)
def test_a_refused_document_is_worded_by_pyyaml(
    tmp_path: Path, document: str, message: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(document, encoding="utf-8")

    with pytest.raises(ConfigError) as refused:
        source.read_yaml(path, "c.yaml", "a test")

    assert str(refused.value) == f"c.yaml: {message}"
