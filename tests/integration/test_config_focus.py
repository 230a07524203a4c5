"""schedule.focus, min_interval and max_interval in prefectures.yaml: defaults, per-target
overrides, and a one-line error for caps out of order or an interval outside them."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from test_config import base, error_of, load, target

from monitor.daemon.jobs import warn_about_host_budgets


def test_focus_defaults_to_even_with_the_contract_caps(tmp_path: Path) -> None:
    config = load(tmp_path, base())
    schedule = config.settings.schedule
    assert (schedule.focus, schedule.min_interval, schedule.max_interval) == (
        "even",
        timedelta(minutes=2),
        timedelta(hours=2),
    )
    assert {t.focus for t in config.targets()} == {"even"}


def test_a_target_overrides_focus_and_caps(tmp_path: Path) -> None:
    raw = base()
    raw["settings"] = {"schedule": {"interval": "15m", "focus": "learned", "max_interval": "1h"}}
    target(raw).update({"focus": "even", "min_interval": "5m"})
    by_id = {t.id: t for t in load(tmp_path, raw).targets()}
    own, inherited = by_id["92/remise-titre"], by_id["75/sejour"]
    assert (own.focus, own.min_interval, own.max_interval) == (
        "even",
        timedelta(minutes=5),
        timedelta(hours=1),
    )
    assert (inherited.focus, inherited.min_interval, inherited.max_interval) == (
        "learned",
        timedelta(minutes=2),
        timedelta(hours=1),
    )


@pytest.mark.parametrize(
    ("schedule", "override", "where", "what"),
    [
        (
            {"min_interval": "3h"},
            {},
            "settings.schedule.min_interval: '3h' is longer than max_interval (2h)",
            "shorter of the two",
        ),
        (
            {},
            {"min_interval": "3h"},
            "prefectures[0].targets[0].min_interval: '3h' is longer than max_interval (2h)",
            "shorter of the two",
        ),
        (
            {"focus": "learned", "interval": "3h"},
            {},
            "prefectures[0].targets[0].interval: '3h' is outside the learned schedule's caps "
            "(min_interval 2m to max_interval 2h)",
            "change the interval or the caps",
        ),
        (
            {"interval": "1m"},
            {"focus": "learned"},
            "prefectures[0].targets[0].interval: '1m' is outside",
            "change the interval or the caps",
        ),
        ({"focus": "smart"}, {}, "settings.schedule.focus: 'smart'", "even, learned"),
    ],
)
def test_bad_focus_settings_are_named(
    tmp_path: Path, schedule: dict[str, str], override: dict[str, str], where: str, what: str
) -> None:
    raw = base()
    raw["settings"] = {"schedule": schedule}
    target(raw).update(override)
    message = error_of(tmp_path, raw)
    assert where in message
    assert what in message


def test_an_even_target_may_keep_an_interval_outside_the_caps(tmp_path: Path) -> None:
    raw = base()
    raw["settings"] = {"schedule": {"interval": "3h"}}
    assert {t.interval for t in load(tmp_path, raw).targets()} == {timedelta(hours=3)}


def test_a_host_too_busy_for_a_learned_targets_hot_hours_is_warned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    raw = base()
    raw["prefectures"][1]["targets"].append(
        {**target(raw, 1), "id": "autre", "url": "https://pprdv.interieur.gouv.fr/booking/create/9"}
    )
    raw["settings"] = {
        "schedule": {"interval": "15m", "focus": "learned", "min_interval": "20s"},
        "politeness": {"per_host_min_gap": "15s"},
    }
    with caplog.at_level(logging.WARNING, logger="monitor.daemon.jobs"):
        warn_about_host_budgets(load(tmp_path, raw))
    assert "host pprdv.interieur.gouv.fr: 2 targets need at least 30s" in caplog.text
    assert "shortest interval 20s" in caplog.text
