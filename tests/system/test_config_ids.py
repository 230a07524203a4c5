"""Ids that validate can be published (issue 25, smaller items).

A 300-character target id used to validate, then every publication failed: the status page
names files after the ids. Prefecture, target and channel ids now have a length limit,
checked with the other config errors (file, key path, value, what is wrong); the longest
ids allowed publish; an id holding a control character is refused.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.config import load_config
from monitor.config.types import MAX_ID_LENGTH
from monitor.errors import ConfigError
from monitor.store import upgrade

PROJECT = Path(__file__).resolve().parents[2]


def _config(prefecture_id: str, target_id: str, channel_id: str = "team") -> dict[str, Any]:
    return {
        "version": 1,
        "channels": [{"id": channel_id, "url": "json://127.0.0.1:9/hook"}],
        "prefectures": [
            {
                "id": prefecture_id,
                "name": "Préfecture",
                "targets": [
                    {
                        "id": target_id,
                        "name": "Titre de séjour",
                        "platform": "legacy-booking",
                        "url": "https://rdv.example.gouv.fr/booking/create/1",
                    }
                ],
            }
        ],
    }


def _error(tmp_path: Path, config: dict[str, Any]) -> str:
    path = tmp_path / "prefectures.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path, env={})
    message = str(raised.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message


def test_a_300_character_target_id_is_refused_naming_the_key(tmp_path: Path) -> None:
    message = _error(tmp_path, _config("92", "t" * 300))
    assert "prefectures[0].targets[0].id: 'tttt" in message
    assert "is 300 characters long; a target id is at most 80" in message


@pytest.mark.parametrize(
    ("config", "key", "what"),
    [
        (_config("p" * 41, "titre"), "prefectures[0].id", "a prefecture id is at most 40"),
        (_config("92", "titre", "c" * 81), "channels[0].id", "a channel id is at most 80"),
    ],
)
def test_other_ids_have_a_limit_too(
    tmp_path: Path, config: dict[str, Any], key: str, what: str
) -> None:
    message = _error(tmp_path, config)
    assert f"{key}: " in message and what in message


def test_a_channel_id_with_a_control_character_is_refused(tmp_path: Path) -> None:
    message = _error(tmp_path, _config("92", "titre", "team\x1bOops\x07"))
    assert "channels[0].id: " in message and "control characters" in message
    assert "\x1b" not in message


def test_the_longest_ids_allowed_are_published(tmp_path: Path) -> None:
    prefecture = "p" * MAX_ID_LENGTH["prefecture"]
    target = "t" * MAX_ID_LENGTH["target"]
    path = tmp_path / "prefectures.yaml"
    config = _config(prefecture, target)
    config["settings"] = {"database": f"sqlite:///{tmp_path / 'monitor.db'}"}
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    assert load_config(path, env={}).targets()[0].id == f"{prefecture}/{target}"
    upgrade(f"sqlite:///{tmp_path / 'monitor.db'}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(path), "publish", str(tmp_path / "s")],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "s" / "targets" / prefecture / f"{target}.html").is_file()
