"""Loading prefectures.yaml: defaults, interpolation, masking, target selection, and the
one-line error for each kind of mistake (file, key path, offending value)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from monitor.config import (
    Channel,
    Config,
    dump_masked,
    load_config,
    resolve_database_url,
    select_targets,
)
from monitor.config.durations import Jitter
from monitor.config.env import is_secret_name
from monitor.domain import MONITOR_TARGET, Engine, EventKind, Platform, Reason
from monitor.errors import ConfigError, NothingMatched

REPO = Path(__file__).resolve().parents[2]
FAKE_PASSWORD = "fake-Pa55word-do-not-print"
FAKE_NUMBER = "+33600000042"

Raw = dict[str, Any]


def base() -> Raw:
    """A small valid config as plain data, for tests to break one key at a time."""
    return {
        "version": 1,
        "prefectures": [
            {
                "id": "92",
                "name": "Préfecture des Hauts-de-Seine",
                "targets": [
                    {
                        "id": "remise-titre",
                        "name": "Remise de titre",
                        "platform": "legacy-booking",
                        "url": "https://www.hauts-de-seine.gouv.fr/booking/create/12083",
                    },
                    {
                        "id": "accueil",
                        "name": "Accueil des étrangers",
                        "platform": "generic",
                        "url": "https://www.example-prefecture.gouv.fr/rdv",
                        "steps": [{"click": "#cookies-banner a"}, {"check": "#condition"}],
                        "rules": {"available": [{"selector": "td.free a", "reason": "slots"}]},
                    },
                ],
            },
            {
                "id": "75",
                "name": "Préfecture de Police",
                "targets": [
                    {
                        "id": "sejour",
                        "name": "Séjour",
                        "platform": "legacy-booking",
                        "url": "https://pprdv.interieur.gouv.fr/booking/create/989",
                    }
                ],
            },
        ],
    }


def write(tmp_path: Path, content: Raw | str, name: str = "prefectures.yaml") -> Path:
    path = tmp_path / name
    text = content if isinstance(content, str) else yaml.safe_dump(content, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, content: Raw | str, env: dict[str, str] | None = None) -> Config:
    return load_config(write(tmp_path, content), env=env or {})


def error_of(tmp_path: Path, content: Raw | str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, content, env)
    message = str(caught.value)
    assert "\n" not in message, "a config error is one line"
    assert message.startswith(str(tmp_path / "prefectures.yaml") + ": ")
    assert "pydantic" not in message and "Traceback" not in message
    return message


def target(raw: Raw, p: int = 0, t: int = 0) -> Raw:
    result: Raw = raw["prefectures"][p]["targets"][t]
    return result


# --- the shipped file ---------------------------------------------------------------


def test_it_loads_the_shipped_prefectures_yaml_cleanly() -> None:
    config = load_config(REPO / "prefectures.yaml", env={})
    departements = {p.id for p in config.prefectures if p.id[:1].isdigit()}
    assert {"63", "75", "93", "92", "95", "69", "38", "76"} <= departements
    assert len(departements) >= 12
    platforms = {t.platform for t in config.targets()}
    assert platforms == set(Platform)
    anef = next(p for p in config.prefectures if p.id == "anef")
    assert anef.name == "ANEF (portail national)"
    assert anef.targets[0].platform is Platform.ANEF
    assert anef.targets[0].url == (
        "https://administration-etrangers-en-france.interieur.gouv.fr/particuliers/#/"
    )
    remise = next(t for t in config.targets() if t.id == "92/remise-titre")
    assert remise.desks == (14673, 14806, 14932)
    assert all(t.interval >= timedelta(minutes=15) for t in config.targets())
    assert config.settings.database == "sqlite:///var/monitor.db"
    assert config.settings.evidence_dir == Path("var/evidence")
    assert str(config.settings.schedule.active_hours) == "07:00-21:00"


def test_it_dates_and_sources_every_shipped_target() -> None:
    text = (REPO / "prefectures.yaml").read_text(encoding="utf-8")
    config = load_config(REPO / "prefectures.yaml", env={})
    target_lines = [line for line in text.splitlines() if re.match(r"\s{6}- id: ", line)]
    assert len(target_lines) == len(config.targets(include_disabled=True))
    for line in target_lines:
        assert re.search(r"# seen (c\. )?\d{4}(–\d{4})? \{[A-Z0-9@-]+\}", line), line


def test_it_interpolates_the_contact_into_the_shipped_user_agent() -> None:
    env = {"MONITOR_CONTACT": "mailto:ops@example.org"}
    config = load_config(REPO / "prefectures.yaml", env=env)
    assert config.settings.user_agent == "prefecture-monitor/0.1 (+mailto:ops@example.org)"


# --- defaults and resolution --------------------------------------------------------


def test_it_fills_every_setting_with_its_default(tmp_path: Path) -> None:
    config = load(tmp_path, "version: 1\nprefectures:\n")
    settings = config.settings
    assert config.prefectures == () and config.channels == ()
    assert settings.database == "sqlite:///var/monitor.db"
    assert settings.cluster is False
    assert settings.timezone == "Europe/Paris" and str(settings.tz) == "Europe/Paris"
    assert settings.language == "fr"
    assert settings.evidence_dir == Path("var/evidence")
    assert settings.user_agent == "prefecture-monitor/0.1 (+https://example.invalid)"
    assert settings.schedule.interval == timedelta(minutes=10)
    assert settings.schedule.jitter == Jitter(fraction=0.2)
    assert settings.schedule.active_hours is None
    assert settings.politeness.per_host_concurrency == 1
    assert settings.politeness.per_host_min_gap == timedelta(seconds=15)
    assert settings.politeness.backoff_max == timedelta(hours=2)
    assert settings.probe_timeout == timedelta(seconds=45)
    assert settings.connectivity_check == ("https://www.service-public.fr/",)
    assert settings.browser.executable_path is None and settings.browser.max_contexts == 4
    assert settings.alerts.anomaly_after == 3 and settings.alerts.resolved_after == 2
    assert settings.alerts.remind_every == timedelta(hours=12)
    assert config.source == tmp_path / "prefectures.yaml"


def test_it_interpolates_the_contact_into_a_defaulted_user_agent(tmp_path: Path) -> None:
    config = load(tmp_path, "version: 1\nprefectures:\n", {"MONITOR_CONTACT": "https://x.org"})
    assert config.settings.user_agent == "prefecture-monitor/0.1 (+https://x.org)"


def test_it_accepts_zero_where_zero_makes_sense(tmp_path: Path) -> None:
    raw = base()
    raw["settings"] = {
        "schedule": {"jitter": "0s"},
        "politeness": {"per_host_min_gap": "0s"},
        "alerts": {"remind_every": 0},
        "connectivity_check": [],
    }
    settings = load(tmp_path, raw).settings
    assert settings.schedule.jitter.spread(timedelta(minutes=10)) == timedelta(0)
    assert settings.politeness.per_host_min_gap == timedelta(0)
    assert settings.alerts.remind_every == timedelta(0)
    assert settings.connectivity_check == ()


def test_it_accepts_decimal_durations_rounded_to_the_millisecond(tmp_path: Path) -> None:
    raw = base()
    raw["settings"] = {
        "politeness": {"per_host_min_gap": "0.5s"},
        "probe_timeout": "1.5m",
        "alerts": {"remind_every": "0.0004s"},
    }
    settings = load(tmp_path, raw).settings
    assert settings.politeness.per_host_min_gap == timedelta(milliseconds=500)
    assert settings.probe_timeout == timedelta(seconds=90)
    assert settings.alerts.remind_every == timedelta(0)


def test_it_resolves_targets_against_their_prefecture_and_the_settings(tmp_path: Path) -> None:
    raw = base()
    raw["settings"] = {"schedule": {"interval": "20m", "active_hours": "07:00-21:00"}}
    target(raw).update(
        {"interval": "30m", "jitter": "1m", "engine": "browser", "desks": [14673, 14806]}
    )
    target(raw, 0, 1)["active_hours"] = None
    target(raw, 1)["url"] = "https://PPRDV.Interieur.gouv.fr:8443/booking/create/989"
    remise, accueil, sejour = load(tmp_path, raw).targets()
    assert (remise.id, remise.local_id, remise.prefecture) == (
        "92/remise-titre",
        "remise-titre",
        "92",
    )
    assert remise.prefecture_name == "Préfecture des Hauts-de-Seine"
    assert remise.engine is Engine.BROWSER and remise.desks == (14673, 14806)
    assert remise.interval == timedelta(minutes=30)
    assert remise.jitter == Jitter(duration=timedelta(minutes=1))
    assert remise.active_hours is not None and remise.active_hours.start == time(7)
    assert remise.host == "www.hauts-de-seine.gouv.fr"
    assert accueil.engine is Engine.BROWSER and accueil.active_hours is None
    assert [s.action for s in accueil.steps] == ["click", "check"]
    assert accueil.steps[0].selector == "#cookies-banner a"
    assert accueil.rules is not None and accueil.rules.available[0].reason is Reason.SLOTS
    assert sejour.engine is Engine.HTTP and sejour.interval == timedelta(minutes=20)
    assert sejour.host == "pprdv.interieur.gouv.fr:8443"


def test_it_reads_every_kind_of_generic_step(tmp_path: Path) -> None:
    raw = base()
    target(raw, 0, 1)["steps"] = [
        {"goto": "/rdv/start"},
        {"goto": "https://www.example-prefecture.gouv.fr/rdv"},
        {"fill": {"selector": "#cp", "value": 75001}},
        {"select": {"selector": "#motif", "value": "titre"}},
        {"wait_for": "#calendar"},
        {"submit": "input[name=nextButton]"},
    ]
    steps = load(tmp_path, raw).targets()[1].steps
    assert [(s.action, s.selector, s.value, s.url) for s in steps] == [
        ("goto", None, None, "/rdv/start"),
        ("goto", None, None, "https://www.example-prefecture.gouv.fr/rdv"),
        ("fill", "#cp", "75001", None),
        ("select", "#motif", "titre", None),
        ("wait_for", "#calendar", None, None),
        ("submit", "input[name=nextButton]", None, None),
    ]


def test_it_leaves_disabled_targets_out_unless_asked(tmp_path: Path) -> None:
    raw = base()
    target(raw, 1)["enabled"] = False
    config = load(tmp_path, raw)
    assert [t.id for t in config.targets()] == ["92/remise-titre", "92/accueil"]
    assert len(config.targets(include_disabled=True)) == 3


def test_it_warns_about_intervals_below_one_minute(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    raw = base()
    raw["settings"] = {"schedule": {"interval": "30s"}}
    target(raw)["interval"] = "5s"
    with caplog.at_level(logging.WARNING, logger="monitor.config"):
        load(tmp_path, raw)
    assert "settings.schedule.interval" in caplog.text
    assert "92/remise-titre" in caplog.text


def test_it_finds_the_file_through_monitor_config_then_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = write(tmp_path, base(), "elsewhere.yaml")
    assert load_config(env={"MONITOR_CONFIG": str(elsewhere)}).source == elsewhere
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "version: 1\nprefectures: []\n")
    assert load_config(env={}).source == Path("prefectures.yaml")
    with pytest.raises(ConfigError, match=r"missing\.yaml: no such file"):
        load_config(tmp_path / "missing.yaml", env={})


# --- interpolation and secrets ------------------------------------------------------

CHANNELS = [
    {
        "id": "team-mail",
        "url": "mailtos://${SMTP_USER}:${SMTP_PASSWORD}@smtp.example.org?to=alerts@example.org",
        "events": ["slots_opened", "anomaly_started"],
        "targets": ["92/*"],
    },
    {"id": "signal", "url": "signal://${SIGNAL_API_HOST}/${SIGNAL_FROM}/${SIGNAL_TO}"},
]
SECRET_ENV = {
    "SMTP_USER": "volunteer%40example.org",  # Apprise wants an '@' in a login encoded
    "SMTP_PASSWORD": FAKE_PASSWORD,
    "SIGNAL_API_HOST": "localhost:8080",
    "SIGNAL_FROM": "+33600000041",
    "SIGNAL_TO": FAKE_NUMBER,
}


def test_it_interpolates_variables_with_and_without_default(tmp_path: Path) -> None:
    raw = base()
    raw["settings"] = {
        "user_agent": "pm (+${CONTACT})",
        "timezone": "${TZ_NAME:-Europe/Paris}",
        "language": "${LANG_CODE:-fr}",
        "database": "sqlite:///${DB_DIR:-var}/m.db",
    }
    config = load(tmp_path, raw, {"CONTACT": "ops@example.org", "LANG_CODE": "en"})
    assert config.settings.user_agent == "pm (+ops@example.org)"
    assert config.settings.timezone == "Europe/Paris"
    assert config.settings.language == "en"
    assert config.settings.database == "sqlite:///var/m.db"


def test_it_keeps_a_doubled_dollar_literal(tmp_path: Path) -> None:
    raw = base()
    raw["settings"] = {"user_agent": "pm $${HOME} $5"}
    assert load(tmp_path, raw).settings.user_agent == "pm ${HOME} $5"


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("SMTP_PASSWORD", True),
        ("SMTP_USER", True),
        ("SIGNAL_TO", True),
        ("SIGNAL_FROM", True),
        ("PHONE_NUMBER", True),
        ("TELEGRAM_TOKEN", True),
        ("APIKEY", True),
        ("MY_API_KEY", True),
        ("CLIENT_SECRET", True),
        ("MONITOR_CONTACT", False),
        ("SIGNAL_API_HOST", False),
        ("TZ_NAME", False),
    ],
)
def test_it_treats_variables_with_secret_looking_names_as_secrets(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_it_masks_channel_urls_and_secret_variables_in_the_dump(tmp_path: Path) -> None:
    raw = base()
    raw["channels"] = CHANNELS
    raw["settings"] = {"browser": {"executable_path": "/opt/${API_TOKEN}/chrome"}}
    config = load(tmp_path, raw, {**SECRET_ENV, "API_TOKEN": "tok-fake-123"})
    assert config.channels[0].url.startswith("mailtos://volunteer%40example.org:")
    dumped = json.dumps(dump_masked(config), ensure_ascii=False)
    for secret in (FAKE_PASSWORD, FAKE_NUMBER, "+33600000041", "volunteer", "tok-fake-123"):
        assert secret not in dumped
        for channel in config.channels:
            assert secret not in channel.masked_url
    assert "mailtos://" in dumped and "signal://" in dumped and "****" in dumped
    masked = dump_masked(config)
    assert masked["settings"]["schedule"]["interval"] == "10m"
    assert masked["channels"][0]["events"] == ["slots_opened", "anomaly_started"]
    assert masked["prefectures"][0]["targets"][1]["steps"][0] == {"click": "#cookies-banner a"}


def test_it_exposes_a_channels_secrets_and_never_shows_them_in_its_repr(tmp_path: Path) -> None:
    raw = base()
    raw["channels"] = CHANNELS
    config = load(tmp_path, raw, SECRET_ENV)
    mail, signal = config.channels

    assert FAKE_PASSWORD in mail.secrets and "volunteer%40example.org" in mail.secrets
    assert {"+33600000041", FAKE_NUMBER} <= signal.secrets
    # Every value from the environment is masked, whatever its variable's name (issue 25).
    assert "localhost:8080" in signal.secrets
    with pytest.raises(ValidationError, match="frozen"):
        mail.secrets = frozenset()  # type: ignore[misc]
    for channel in config.channels:
        for shown in (repr(channel), str(channel), repr(config), str(config)):
            assert channel.url not in shown
            for secret in (FAKE_PASSWORD, FAKE_NUMBER, "+33600000041"):
                assert secret not in shown
        assert channel.masked_url in repr(channel)


def test_it_masks_what_apprise_cannot_parse_after_the_scheme(tmp_path: Path) -> None:
    # The loader refuses such a URL (tests/system/test_bad_input.py); its masked form is what the
    # refusal shows.
    channel = Channel(id="odd", url=f"nosuchservice://user:{FAKE_PASSWORD}@host")
    assert channel.masked_url == "nosuchservice://****"
    raw = base()
    raw["channels"] = [{"id": "odd", "url": channel.url}]
    message = error_of(tmp_path, raw)
    assert "channels[0].url: 'nosuchservice://****' (channel 'odd')" in message
    assert FAKE_PASSWORD not in message


def test_it_keeps_apprise_from_logging_a_number_it_rejects(
    caplog: pytest.LogCaptureFixture,
) -> None:
    channel = Channel(id="s", url=f"signal://host/{FAKE_NUMBER[:6]}/")
    with caplog.at_level(logging.DEBUG):
        assert channel.masked_url == "signal://****"
    assert FAKE_NUMBER[:6] not in caplog.text


def test_it_never_echoes_a_secret_in_an_error(tmp_path: Path) -> None:
    raw = base()
    raw["settings"] = {"timezone": "${API_TOKEN}"}
    message = error_of(tmp_path, raw, {"API_TOKEN": FAKE_PASSWORD})
    assert "settings.timezone: '****' is not a known time zone" in message
    assert FAKE_PASSWORD not in message


def test_it_never_echoes_a_malformed_channel_url(tmp_path: Path) -> None:
    raw = base()
    raw["channels"] = [{"id": "bad", "url": f"user:{FAKE_PASSWORD}@smtp.example.org"}]
    message = error_of(tmp_path, raw)
    assert "channels[0].url: is not an Apprise URL" in message
    assert FAKE_PASSWORD not in message


# --- channels and globs ---------------------------------------------------------------


def test_it_matches_channels_on_target_globs_and_events(tmp_path: Path) -> None:
    raw = base()
    raw["channels"] = CHANNELS
    mail, signal = load(tmp_path, raw, SECRET_ENV).channels
    assert mail.matches("92/remise-titre") and not mail.matches("75/sejour")
    assert mail.matches(MONITOR_TARGET)
    assert mail.wants(EventKind.SLOTS_OPENED) and not mail.wants(EventKind.SLOTS_CLOSED)
    assert signal.matches("75/sejour") and signal.events == frozenset(EventKind)
    assert signal.targets == ("*",) and signal.language is None


def test_it_accepts_globs_with_character_classes(tmp_path: Path) -> None:
    raw = base()
    raw["channels"] = [{"id": "c", "url": "json://localhost", "targets": ["9[0-9]/*", "7?/[!x]*"]}]
    channel = load(tmp_path, raw).channels[0]
    assert channel.matches("92/accueil") and channel.matches("75/sejour")


# --- select_targets -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        ([], ["92/remise-titre", "92/accueil", "75/sejour"]),
        (["92/remise-titre"], ["92/remise-titre"]),
        (["92/*"], ["92/remise-titre", "92/accueil"]),
        (["75"], ["75/sejour"]),
        (["75", "92/acc*"], ["92/accueil", "75/sejour"]),
        (["*/sejour", "75/sejour"], ["75/sejour"]),
    ],
)
def test_it_selects_targets_by_id_glob_or_prefecture(
    tmp_path: Path, patterns: list[str], expected: list[str]
) -> None:
    config = load(tmp_path, base())
    assert [t.id for t in select_targets(config, patterns)] == expected


@pytest.mark.parametrize("pattern", ["93", "92/nope", "93/*", "remise-titre"])
def test_it_names_the_pattern_that_matched_nothing(tmp_path: Path, pattern: str) -> None:
    config = load(tmp_path, base())
    with pytest.raises(NothingMatched, match=re.escape(repr(pattern))):
        select_targets(config, ["92", pattern])


def test_it_selects_a_disabled_target_only_by_its_full_id(tmp_path: Path) -> None:
    raw = base()
    target(raw, 1)["enabled"] = False
    config = load(tmp_path, raw)
    assert [t.id for t in select_targets(config, ["75/sejour"])] == ["75/sejour"]
    with pytest.raises(NothingMatched):
        select_targets(config, ["75"])


# --- resolve_database_url ---------------------------------------------------------------


def test_it_resolves_the_database_url_in_order(tmp_path: Path) -> None:
    raw = base()
    raw["settings"] = {"database": "sqlite:///settings.db"}
    config = load(tmp_path, raw)
    env = {"MONITOR_DATABASE_URL": "postgresql://u@db/monitor"}
    assert resolve_database_url(config, "sqlite:///cli.db", env) == "sqlite:///cli.db"
    assert resolve_database_url(config, None, env) == "postgresql+psycopg://u@db/monitor"
    assert resolve_database_url(config, None, {}) == "sqlite:///settings.db"
    assert resolve_database_url(None, None, {}) == "sqlite:///var/monitor.db"


def test_it_refuses_other_databases_without_showing_the_password() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_database_url(None, f"mysql://root:{FAKE_PASSWORD}@db/x", {})
    message = str(caught.value)
    assert message.startswith("--database: 'mysql://root:****@db/x' is not a database URL")
    assert FAKE_PASSWORD not in message


# --- one line per mistake: file, key path, offending value -------------------------------

Mutation = Callable[[Raw], None]


def _set(path: str, value: Any) -> Mutation:
    """A mutation setting a dotted path (list indexes as numbers) in the raw config."""

    def mutate(raw: Raw) -> None:
        *parents, last = path.split(".")
        node: Any = raw
        for part in parents:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        node[int(last) if last.isdigit() else last] = value

    return mutate


def _duplicate_prefecture(raw: Raw) -> None:
    raw["prefectures"].append({"id": "92", "name": "Encore", "targets": []})


def _duplicate_target(raw: Raw) -> None:
    raw["prefectures"][0]["targets"].append(dict(target(raw), name="Doublon"))


def _duplicate_channel(raw: Raw) -> None:
    raw["channels"] = [{"id": "c", "url": "json://localhost"}] * 2


def _channel(**fields: Any) -> Mutation:
    def mutate(raw: Raw) -> None:
        raw["channels"] = [{"id": "c", "url": "json://localhost", **fields}]

    return mutate


BAD_INPUTS: list[tuple[str, Mutation, str]] = [
    ("unknown top-level key", _set("prefecturez", []), "prefecturez: is an unknown key"),
    (
        "unknown nested key",
        _set("settings.schedule.intervall", "10m"),
        "settings.schedule.intervall: is an unknown key; did you mean 'interval'?",
    ),
    (
        "bad duration",
        _set("settings.schedule.interval", "10 minutes"),
        "settings.schedule.interval: '10 minutes' is not a duration",
    ),
    (
        "duration without unit",
        _set("settings.probe_timeout", 45),
        "settings.probe_timeout: 45 has no unit",
    ),
    (
        "zero interval",
        _set("prefectures.0.targets.0.interval", "0s"),
        "prefectures[0].targets[0].interval: '0s' must be longer than zero",
    ),
    (
        "decimal interval rounding to zero",
        _set("prefectures.0.targets.0.interval", "0.0004s"),
        "prefectures[0].targets[0].interval: '0.0004s' must be longer than zero",
    ),
    (
        "jitter over 100%",
        _set("settings.schedule.jitter", "150%"),
        "settings.schedule.jitter: '150%' is not a jitter",
    ),
    (
        "negative number",
        _set("settings.politeness.per_host_concurrency", -1),
        "settings.politeness.per_host_concurrency: -1 must be >= 1",
    ),
    (
        "bad URL",
        _set("prefectures.0.targets.0.url", "www.hauts-de-seine.gouv.fr/booking"),
        "prefectures[0].targets[0].url: 'www.hauts-de-seine.gouv.fr/booking' is not an http(s) "
        "URL; write the full address",
    ),
    (
        "non-http URL",
        _set("prefectures.0.targets.1.url", "ftp://x"),
        "prefectures[0].targets[1].url: 'ftp://x' is not an http(s) URL",
    ),
    (
        "non-http connectivity check",
        _set("settings.connectivity_check", ["https://ok.example/", "gopher://x"]),
        "settings.connectivity_check[1]: 'gopher://x' is not an http(s) URL",
    ),
    (
        "duplicate prefecture id",
        _duplicate_prefecture,
        "prefectures[2].id: '92' is a duplicate prefecture id; prefectures[0] already uses it",
    ),
    (
        "duplicate target id",
        _duplicate_target,
        "prefectures[0].targets[2].id: 'remise-titre' is a duplicate target id",
    ),
    (
        "duplicate channel id",
        _duplicate_channel,
        "channels[1].id: 'c' is a duplicate channel id; channels[0] already uses it",
    ),
    (
        "unknown platform",
        _set("prefectures.1.targets.0.platform", "legacy"),
        "prefectures[1].targets[0].platform: 'legacy' is not one of: legacy-booking, "
        "rdv-prefecture",
    ),
    (
        "unknown event",
        _channel(events=["slots_opened", "slot_opened"]),
        "channels[0].events[1]: 'slot_opened' is not one of: slots_opened",
    ),
    (
        "wrong type",
        _set("settings.browser.max_contexts", "four"),
        "settings.browser.max_contexts: 'four' is not a whole number",
    ),
    (
        "bad glob",
        _channel(targets=["92/[abc"]),
        "channels[0].targets[0]: '92/[abc' has an unclosed '['",
    ),
    (
        "glob matching nothing",
        _channel(targets=["92/*", "93/*"]),
        "channels[0].targets[1]: '93/*' matches no target; configured targets are "
        "92/remise-titre, 92/accueil, 75/sejour",
    ),
    (
        "empty events",
        _channel(events=[]),
        "channels[0].events: [] is empty",
    ),
    (
        "bad active_hours",
        _set("settings.schedule.active_hours", "25:00-26:00"),
        "settings.schedule.active_hours: '25:00-26:00' is not a daily time window",
    ),
    (
        "equal active_hours",
        _set("prefectures.0.targets.0.active_hours", "08:00-08:00"),
        "prefectures[0].targets[0].active_hours: '08:00-08:00' is not a daily time window",
    ),
    (
        "bad timezone",
        _set("settings.timezone", "Europe/Pariss"),
        "settings.timezone: 'Europe/Pariss' is not a known time zone",
    ),
    (
        "bad language",
        _set("settings.language", "de"),
        "settings.language: 'de' is not one of: fr, en",
    ),
    ("version 2", _set("version", 2), "version: 2 is not a supported version"),
    (
        "steps on a non-generic platform",
        _set("prefectures.0.targets.0.steps", [{"click": "#x"}]),
        "prefectures[0].targets[0].steps: are only for platform generic; platform legacy-booking",
    ),
    (
        "rule reason in the wrong section",
        _set("prefectures.0.targets.1.rules", {"available": [{"text": "x", "reason": "no_slot"}]}),
        "prefectures[0].targets[1].rules.available[0].reason: 'no_slot' is not an available "
        "reason; use one of: slots, open",
    ),
    (
        "rule with text and selector",
        _set(
            "prefectures.0.targets.1.rules",
            {"anomaly": [{"text": "x", "selector": "y", "reason": "captcha"}]},
        ),
        "prefectures[0].targets[1].rules.anomaly[0]: needs exactly one of text or selector",
    ),
    (
        "generic without rules",
        _set("prefectures.0.targets.1.rules", None),
        "prefectures[0].targets[1].rules: is required for platform generic",
    ),
    (
        "goto that is neither a URL nor a path",
        _set("prefectures.0.targets.1.steps", [{"goto": "rdv/start"}]),
        "prefectures[0].targets[1].steps[0].goto: 'rdv/start' is neither an http(s) URL",
    ),
    (
        "unknown step action",
        _set("prefectures.0.targets.1.steps", [{"check": "#c"}, {"klick": "#x"}]),
        "prefectures[0].targets[1].steps[1]: 'klick' is not a step action",
    ),
    (
        "fill step without value",
        _set("prefectures.0.targets.1.steps", [{"fill": {"selector": "#cp"}}]),
        "prefectures[0].targets[1].steps[0].fill: {'selector': '#cp'} needs exactly the keys",
    ),
    (
        "desks on a non-legacy platform",
        _set("prefectures.0.targets.1.desks", [1]),
        "prefectures[0].targets[1].desks: [1] are only for platform legacy-booking",
    ),
    (
        "slash in a target id",
        _set("prefectures.1.targets.0.id", "sejour/bis"),
        "prefectures[1].targets[0].id: 'sejour/bis' may not contain '/'",
    ),
    (
        "bad prefecture id",
        _set("prefectures.1.id", "Paris 75"),
        "prefectures[1].id: 'Paris 75' may not contain spaces",
    ),
    (
        "unquoted leading-zero département",
        _set("prefectures.1.id", 1),
        "prefectures[1].id: 1 is ambiguous; quote département codes",
    ),
    (
        "missing required key",
        lambda raw: target(raw).pop("url"),
        "prefectures[0].targets[0].url: required key is missing",
    ),
    (
        "section that is not a mapping",
        _set("settings", ["interval: 10m"]),
        "settings: ['interval: 10m'] is not a mapping",
    ),
    (
        "database that is not sqlite or postgresql",
        _set("settings.database", "mysql://db/x"),
        "settings.database: 'mysql://db/x' is not a database URL",
    ),
    (
        "bool that is not a bool",
        _set("settings.cluster", "maybe"),
        "settings.cluster: 'maybe' is not true or false",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected"), [case[1:] for case in BAD_INPUTS], ids=[case[0] for case in BAD_INPUTS]
)
def test_it_names_file_key_path_and_value_for_each_bad_input(
    tmp_path: Path, mutate: Mutation, expected: str
) -> None:
    raw = base()
    mutate(raw)
    assert expected in error_of(tmp_path, raw)


def test_it_names_the_missing_variable_and_its_key(tmp_path: Path) -> None:
    raw = base()
    raw["channels"] = CHANNELS
    env = {k: v for k, v in SECRET_ENV.items() if k != "SMTP_PASSWORD"}
    message = error_of(tmp_path, raw, env)
    assert "channels[0].url: environment variable SMTP_PASSWORD is not set" in message
    assert "${SMTP_PASSWORD:-default}" in message


def test_it_rejects_a_malformed_reference(tmp_path: Path) -> None:
    raw = base()
    raw["settings"] = {"user_agent": "pm ${CONTACT"}
    message = error_of(tmp_path, raw)
    assert "settings.user_agent: 'pm ${CONTACT' has a malformed ${…}" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\nprefectures: [\n  {id: '92'\n", "line 4, column 1: invalid YAML"),
        (
            "version: 1\nprefectures:\n\t- id: '92'\n",
            "line 3, column 1: a tab character is used for indentation; YAML needs spaces",
        ),
        ("version: 1\nsettings: {}\nsettings: {}\nprefectures: []\n", "duplicate key 'settings'"),
        ("", "the file is empty"),
        ("# only a comment\n", "the file is empty"),
        ("- version: 1\n", "top level: list is not a config"),
        ("prefectures: []\n", "version: required key is missing"),
    ],
    ids=["malformed", "tab", "duplicate key", "empty", "comments only", "list", "no version"],
)
def test_it_reports_file_level_mistakes_with_their_place(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert expected in error_of(tmp_path, text)


def test_it_counts_the_errors_it_does_not_show(tmp_path: Path) -> None:
    raw = base()
    raw["settings"] = {"language": "de", "timezone": "Nowhere/Else"}
    message = error_of(tmp_path, raw)
    assert "(and 1 more error)" in message


def test_it_never_echoes_a_channel_written_as_a_bare_url(tmp_path: Path) -> None:
    raw = base()
    raw["channels"] = [f"mailtos://user:{FAKE_PASSWORD}@smtp.example.org"]
    message = error_of(tmp_path, raw)
    assert "channels[0]: 'mailtos://****' is not a mapping" in message
    assert FAKE_PASSWORD not in message


def test_it_takes_empty_sections_and_numeric_ids_as_written(tmp_path: Path) -> None:
    text = (
        "version: 1\nsettings:\n  browser:\nchannels:\n#  - id: commented-out\n"
        "prefectures:\n  - id: 92\n    name: Hauts-de-Seine\n    targets:\n"
    )
    config = load(tmp_path, text)
    assert config.channels == () and config.settings.browser.max_contexts == 4
    assert config.prefectures[0].id == "92" and config.prefectures[0].targets == ()


def test_it_suggests_the_known_keys_of_a_target(tmp_path: Path) -> None:
    raw = base()
    target(raw)["intervall"] = "15m"
    message = error_of(tmp_path, raw)
    assert "prefectures[0].targets[0].intervall: is an unknown key; did you mean 'interval'?" in (
        message
    )
    assert "known keys: id, name, platform, url" in message


def test_it_refuses_a_yaml_alias_bomb_and_a_huge_file(tmp_path: Path) -> None:
    levels = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(levels) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="aliases expand to more than 200,000 values"):
        load_config(bomb, env={})
    huge = tmp_path / "huge.yaml"
    huge.write_text("# " + "x" * (2 * 1024 * 1024) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="a config file is at most 1,048,576 bytes"):
        load_config(huge, env={})
