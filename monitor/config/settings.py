"""The ``settings:`` section of prefectures.yaml; every key has a default.

The keys, their defaults and their meaning: docs/contract.md#settings.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationInfo, field_validator, model_validator

from monitor.config.durations import ActiveHours, Jitter, format_duration
from monitor.config.errors import Invalid
from monitor.config.listen import parse_listen
from monitor.config.masking import mask_database_password
from monitor.config.types import (
    ActiveHoursSpec,
    Duration,
    Focus,
    FrozenModel,
    HttpUrl,
    JitterSpec,
    Language,
    PositiveDuration,
    Text,
)

#: As written in the file: the loader interpolates it, so MONITOR_CONTACT applies even when
#: the key is left out.
USER_AGENT_TEMPLATE = "prefecture-monitor/0.1 (+${MONITOR_CONTACT:-https://example.invalid})"
DEFAULT_DATABASE = "sqlite:///var/monitor.db"
_DATABASE_SCHEMES = ("sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg", "postgres")


class Schedule(FrozenModel):
    """When targets are probed; each target may override interval, jitter, active_hours."""

    interval: PositiveDuration = timedelta(minutes=10)
    jitter: JitterSpec = Jitter(fraction=0.2)
    #: None: always active. The contract's example shows 07:00-21:00, which prefectures.yaml sets;
    #: the code default stays "always" so that a minimal config probes at any hour.
    active_hours: ActiveHoursSpec | None = None
    #: even: today's grid; learned: the same budget where slots appear (monitor.daemon.focus)
    focus: Focus = "even"
    min_interval: PositiveDuration = timedelta(minutes=2)  #: learned: never more often
    max_interval: PositiveDuration = timedelta(hours=2)  #: learned: never less often

    @model_validator(mode="after")
    def _caps_in_order(self) -> Schedule:
        check_focus_caps(self.min_interval, self.max_interval, at=())
        return self


def check_focus_caps(low: timedelta, high: timedelta, *, at: tuple[str | int, ...]) -> None:
    """A learned schedule's caps: ``min_interval`` not longer than ``max_interval``."""
    if low > high:
        raise Invalid(
            f"is longer than max_interval ({format_duration(high)}); make min_interval the "
            "shorter of the two (defaults: 2m and 2h)",
            at=(*at, "min_interval"),
            value=format_duration(low),
        )


class Politeness(FrozenModel):
    """Per-host limits that keep the public sites' load low."""

    per_host_concurrency: int = Field(default=1, ge=1)
    per_host_min_gap: Duration = timedelta(seconds=15)
    backoff_max: Duration = timedelta(hours=2)


class BrowserSettings(FrozenModel):
    """Chromium for the browser engine."""

    executable_path: str | None = None  #: None: $MONITOR_BROWSER, then auto-detection
    max_contexts: int = Field(default=4, ge=1)


class LegacySettings(FrozenModel):
    """The legacy booking module (``legacy-booking`` targets)."""

    #: Weeks of the AJAX calendar read per desk that has slots, from the current week on;
    #: each week is one more request to the site (through the politeness gate).
    calendar_weeks: int = Field(default=6, ge=1, le=26)


class PublishSettings(FrozenModel):
    """The public status page (``monitor publish``, ``monitor run --publish``)."""

    dir: Path | None = None  #: None: the daemon publishes only with ``run --publish``
    language: Language = "fr"
    #: The licence line of the open data; empty: none is written.
    licence: str = "Licence Ouverte / Open Licence version 2.0 (Etalab)"
    min_gap: PositiveDuration = timedelta(minutes=1)  #: the daemon regenerates at most this often


class AlertSettings(FrozenModel):
    """Thresholds of the alert policy."""

    anomaly_after: int = Field(default=3, ge=1)
    resolved_after: int = Field(default=2, ge=1)
    remind_every: Duration = timedelta(hours=12)  #: zero: never remind


class FleetSettings(FrozenModel):
    """Daemon nodes and their database (several daemons on one PostgreSQL, ``cluster: true``)."""

    #: a node silent this long leaves the heartbeat list (monitor.daemon.housekeeping)
    forget_after: PositiveDuration = timedelta(days=1)
    #: database connections per node: the store's pool (monitor.store.engine)
    db_pool: int = Field(default=5, ge=1)


#: The shortest ``settings.assist.reread``: a person reloading a page does it no faster.
MIN_REREAD = timedelta(minutes=5)


class AssistSettings(FrozenModel):
    """Assisted sessions of ``assist: true`` targets (docs/contract.md#settings)."""

    reread: PositiveDuration = timedelta(minutes=10)  #: a live session's slot page, this often
    max_rereads: int = Field(default=6, ge=1)  #: then the session ends (reads_used)
    ask_every: PositiveDuration = timedelta(hours=2)  #: assist_needed again while unanswered

    @field_validator("reread")
    @classmethod
    def _not_too_often(cls, value: timedelta) -> timedelta:
        if value < MIN_REREAD:
            raise Invalid(
                "is too often: a live session's slot page is re-read at a person's pace, "
                "at least 5m apart; write 5m or more",
                value=format_duration(value),
            )
        return value


class ConsoleSettings(FrozenModel):
    """The operator console served by ``monitor run`` (docs/contract.md#settings)."""

    listen: str = "127.0.0.1:8470"  #: ADDRESS:PORT (monitor.config.listen)
    #: required; every page asks for it; masked wherever the config is shown, never in a repr
    token: Text = Field(repr=False)

    @field_validator("listen")
    @classmethod
    def _address_port(cls, value: str) -> str:
        try:
            parse_listen(value)
        except ValueError as error:
            raise Invalid(f"is not host:port: {error}", value=value) from None
        return value

    @property
    def url(self) -> str:
        """The console's address, as assist_needed gives it to people (0.0.0.0: loopback's)."""
        where = parse_listen(self.listen)
        if where.host in ("0.0.0.0", "::"):
            where = dataclasses.replace(where, host="127.0.0.1")
        return where.url()


def check_database_url(value: str) -> str:
    """Accept sqlite and PostgreSQL (psycopg 3) URLs; returns the URL SQLAlchemy should use.

    ``postgresql://`` and ``postgres://`` are rewritten to ``postgresql+psycopg://``, the
    only PostgreSQL driver installed. Raises Invalid, whose value is password-masked.
    """
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if scheme not in _DATABASE_SCHEMES:
        raise Invalid(
            "is not a database URL; use sqlite:///relative/path.db, sqlite:////absolute/path.db"
            " or postgresql+psycopg://user@host/db",
            value=mask_database_url(value),
        )
    if scheme in ("postgresql", "postgres"):
        return "postgresql+psycopg://" + value.split("://", 1)[1]
    return value


def mask_database_url(url: str) -> str:
    """The URL with its password (``user:pass@`` or ``?password=``) replaced by ****."""
    return mask_database_password(url)


class Settings(FrozenModel):
    """Everything under ``settings:``."""

    database: str = DEFAULT_DATABASE
    cluster: bool = False
    timezone: str = "Europe/Paris"
    language: Language = "fr"
    evidence_dir: Path = Path("var/evidence")
    user_agent: Text = "prefecture-monitor/0.1 (+https://example.invalid)"
    schedule: Schedule = Schedule()
    politeness: Politeness = Politeness()
    probe_timeout: PositiveDuration = timedelta(seconds=45)
    connectivity_check: tuple[HttpUrl, ...] = ("https://www.service-public.fr/",)
    browser: BrowserSettings = BrowserSettings()
    alerts: AlertSettings = AlertSettings()
    legacy: LegacySettings = LegacySettings()
    publish: PublishSettings = PublishSettings()
    fleet: FleetSettings = FleetSettings()
    assist: AssistSettings = AssistSettings()
    console: ConsoleSettings | None = None  #: None: no console (assisted sessions need one)

    @field_validator(
        "schedule",
        "politeness",
        "browser",
        "alerts",
        "legacy",
        "publish",
        "fleet",
        "assist",
        "connectivity_check",
        mode="before",
    )
    @classmethod
    def _null_is_default(cls, value: Any, info: ValidationInfo) -> Any:
        # A key whose lines are all commented out is YAML null: a section then takes its
        # defaults, a list is empty (`connectivity_check:` alone turns the check off).
        if value is None:
            return () if info.field_name == "connectivity_check" else {}
        return value

    @field_validator("database")
    @classmethod
    def _database(cls, value: str) -> str:
        return check_database_url(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(
                "is not a known time zone; use an IANA name such as Europe/Paris", value=value
            ) from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The display and active-hours time zone."""
        return ZoneInfo(self.timezone)


__all__ = [
    "DEFAULT_DATABASE",
    "USER_AGENT_TEMPLATE",
    "ActiveHours",
    "AlertSettings",
    "AssistSettings",
    "BrowserSettings",
    "ConsoleSettings",
    "FleetSettings",
    "LegacySettings",
    "Politeness",
    "PublishSettings",
    "Schedule",
    "Settings",
    "check_database_url",
    "check_focus_caps",
    "mask_database_url",
]
