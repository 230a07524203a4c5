"""settings.assist, settings.console and a target's ``assist``: defaults, limits, clear
errors, and the console's token masked wherever the config is shown."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.config import Config, dump_masked, load_config
from monitor.errors import ConfigError

TOKEN = "console-token-do-not-print-42"
RDV = "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/3762/"


def raw(*, platform: str = "rdv-prefecture", console: bool = True, **assist: Any) -> Any:
    settings: dict[str, Any] = {"assist": assist} if assist else {}
    if console:
        settings["console"] = {"token": "${MONITOR_CONSOLE_TOKEN}"}
    url = RDV if platform == "rdv-prefecture" else "https://www.example.gouv.fr/booking/create/1"
    return {
        "version": 1,
        "settings": settings,
        "prefectures": [
            {
                "id": "38",
                "name": "Préfecture de l'Isère",
                "targets": [
                    {
                        "id": "sejour",
                        "name": "Séjour",
                        "platform": platform,
                        "url": url,
                        "assist": True,
                    }
                ],
            }
        ],
    }


def load(tmp_path: Path, content: Any) -> Config:
    path = tmp_path / "prefectures.yaml"
    path.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    return load_config(path, env={"MONITOR_CONSOLE_TOKEN": TOKEN})


def error_of(tmp_path: Path, content: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, content)
    message = str(caught.value)
    assert "\n" not in message and TOKEN not in message
    return message


def test_defaults_and_the_assisted_target(tmp_path: Path) -> None:
    config = load(tmp_path, raw())
    assist = config.settings.assist
    assert (assist.reread, assist.max_rereads, assist.ask_every) == (
        timedelta(minutes=10),
        6,
        timedelta(hours=2),
    )
    console = config.settings.console
    assert console is not None
    assert console.listen == "127.0.0.1:8470"
    assert console.token == TOKEN
    assert console.url == "http://127.0.0.1:8470/"
    (target,) = config.targets()
    assert target.assist


def test_no_console_by_default_and_no_assist(tmp_path: Path) -> None:
    content = raw(console=False)
    del content["prefectures"][0]["targets"][0]["assist"]
    config = load(tmp_path, content)
    assert config.settings.console is None
    assert not config.targets()[0].assist


def test_reread_is_never_under_five_minutes(tmp_path: Path) -> None:
    assert load(tmp_path, raw(reread="5m")).settings.assist.reread == timedelta(minutes=5)
    message = error_of(tmp_path, raw(reread="4m"))
    assert "settings.assist.reread" in message and "'4m'" in message and "5m" in message


def test_max_rereads_is_at_least_one(tmp_path: Path) -> None:
    assert "settings.assist.max_rereads" in error_of(tmp_path, raw(max_rereads=0))


def test_assist_only_on_rdv_prefecture(tmp_path: Path) -> None:
    message = error_of(tmp_path, raw(platform="legacy-booking"))
    assert "prefectures[0].targets[0].assist" in message
    assert "rdv-prefecture" in message and "legacy-booking" in message


def test_assist_needs_the_console(tmp_path: Path) -> None:
    message = error_of(tmp_path, raw(console=False))
    assert "prefectures[0].targets[0].assist" in message and "settings.console" in message


def test_the_console_needs_a_token_and_a_host_port(tmp_path: Path) -> None:
    content = raw()
    content["settings"]["console"] = {"listen": "127.0.0.1:8470"}
    assert "settings.console.token" in error_of(tmp_path, content)
    content["settings"]["console"] = {"token": "x", "listen": "8470"}
    message = error_of(tmp_path, content)
    assert "settings.console.listen" in message and "host:port" in message


def test_a_missing_token_variable_is_named(tmp_path: Path) -> None:
    path = tmp_path / "prefectures.yaml"
    path.write_text(yaml.safe_dump(raw()), encoding="utf-8")
    with pytest.raises(ConfigError, match="MONITOR_CONSOLE_TOKEN"):
        load_config(path, env={})


@pytest.mark.parametrize("written", ["${MONITOR_CONSOLE_TOKEN}", TOKEN])
def test_the_token_is_masked_in_the_dump_and_the_repr(tmp_path: Path, written: str) -> None:
    content = raw()
    content["settings"]["console"]["token"] = written  # from the environment, or written out
    config = load(tmp_path, content)
    assert TOKEN in config.secrets
    assert TOKEN not in json.dumps(dump_masked(config), ensure_ascii=False)
    assert TOKEN not in repr(config.settings) and TOKEN not in repr(config)
