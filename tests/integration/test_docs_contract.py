"""docs/contract.md says what the code does: every name in it exists, every name exists in it.

The contract is written for people, so it is not generated; these checks keep it true. Its
vocabulary (statuses, reasons, events, platforms), its commands and options, its settings and
target keys, its outcome and stats fields and its catalogue of detail codes are compared with
the code's. A row marked **(planned)** must name something the code does not have yet, and
every other row something it has.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import get_args

import click
from pydantic import BaseModel

from monitor.cli import COMMANDS, cli
from monitor.config import Channel, Settings, TargetConfig
from monitor.details import CODES
from monitor.domain import EventKind, Platform, Reason, Status
from monitor.reports.output import OUTCOME_FIELDS
from monitor.reports.stats import stats_fields


def _repository_root() -> Path:
    here = Path(__file__).resolve().parent
    while not (here / "pyproject.toml").exists():
        here = here.parent
    return here


CONTRACT = (_repository_root() / "docs" / "contract.md").read_text(encoding="utf-8")
PLANNED = "**(planned)**"


def section(title: str, level: int = 3) -> str:
    """The text under a heading, up to the next heading of the same level or higher."""
    marks = "#" * level
    match = re.search(
        rf"^{marks} {re.escape(title)}\n(.*?)(?=^#{{1,{level}}} |\Z)", CONTRACT, re.M | re.S
    )
    assert match, f"docs/contract.md has no section {title!r}"
    return match.group(1)


def table_rows(text: str) -> Iterator[tuple[str, bool]]:
    """Each code name in a table row's first cell, and whether the row is marked planned."""
    for line in text.splitlines():
        cells = line.split("|")
        if line.startswith("| `") and len(cells) > 2:
            for name in re.findall(r"`([^`]+)`", cells[1]):
                yield name, PLANNED in line


def model_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every key of a config model, nested sections as ``section.key``."""
    keys = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        # An optional section (``console: ConsoleSettings | None``) has the section's keys.
        models = [a for a in get_args(annotation) if isinstance(a, type) and a is not type(None)]
        if len(models) == 1:
            annotation = models[0]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= model_keys(annotation, f"{prefix}{name}.")
        else:
            keys.add(f"{prefix}{name}")
    return keys


def test_the_vocabulary_is_the_domains() -> None:
    for kind in (*Status, *Reason, *EventKind, *Platform):
        assert f"`{kind.value}`" in CONTRACT, kind.value


def test_every_command_and_option_is_in_the_contract() -> None:
    context = click.Context(cli)
    missing = [
        opt
        for param in cli.params
        for opt in getattr(param, "opts", [])
        if opt.startswith("--") and opt not in CONTRACT
    ]
    for name in COMMANDS:
        command = cli.get_command(context, name)
        assert command is not None
        subcommands = (
            {sub: command.get_command(context, sub) for sub in command.list_commands(context)}
            if isinstance(command, click.Group)
            else {"": command}
        )
        for sub_name, sub in subcommands.items():
            assert sub is not None
            path = f"monitor {name} {sub_name}".strip()
            if f"`{path}" not in CONTRACT:
                missing.append(path)
            for param in sub.params:
                for opt in getattr(param, "opts", []):
                    if opt.startswith("--") and opt != "--help" and f"`{opt}" not in CONTRACT:
                        missing.append(f"{path} {opt}")
    assert missing == []


def test_the_settings_table_is_the_settings_model() -> None:
    rows = list(table_rows(section("settings")))
    built = {key for key, planned in rows if not planned}
    planned = {key for key, planned in rows if planned}
    real = model_keys(Settings)
    assert built == real
    assert not planned & real


def test_the_target_and_channel_tables_are_the_models() -> None:
    rows = list(table_rows(section("prefectures and targets")))
    assert {key for key, planned in rows if not planned} == set(TargetConfig.model_fields)
    assert not {key for key, planned in rows if planned}
    assert {key for key, _ in table_rows(section("channels"))} == set(Channel.model_fields)


def test_the_outcome_fields_are_listed_in_their_order() -> None:
    text = section("Outcome fields")
    listed = [
        name
        for name in re.findall(r"`(\w+)`", text.split("**(planned)**")[0])
        if name in OUTCOME_FIELDS
    ]
    assert listed == list(OUTCOME_FIELDS)


def test_the_stats_fields_are_listed_in_their_order() -> None:
    line = section("Machine formats", level=2).split("- `stats`:", 1)[1].split("\n\n")[0]
    named = re.findall(r"`(\w+)`", line)
    assert [name for name in named if name not in ("target", "prefecture", "day", "node")] == [
        name for name in stats_fields("target") if name not in ("target", "prefecture")
    ]


def test_the_detail_codes_are_the_catalogue() -> None:
    text = section("Details").split("The codes:", 1)[1]
    listed = re.findall(r"`([\w.]+)`", text.split("Rows recorded before", 1)[0])
    assert sorted(listed) == sorted(CODES)
    assert len(listed) == len(set(listed))
