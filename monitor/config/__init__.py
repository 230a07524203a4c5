"""Load and validate prefectures.yaml; resolve targets; show the config without secrets.

The public API the rest of the monitor codes against:

    load_config(path=None, *, env=None, check_channels=True) -> Config
    Config.targets() -> tuple[Target, ...]
    resolve_database_url(config, override=None, env=None) -> str
    dump_masked(config) -> dict
    select_targets(config, patterns) -> tuple[Target, ...]

Every problem with the file is a ``ConfigError`` whose message is one line naming the
file, the key path (``prefectures[2].targets[0].url``) and the offending value.
Relative paths in the file (the sqlite database, ``evidence_dir``) are relative to the
current directory, not to the config file, as with every other command-line path.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from datetime import timedelta
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitor.config.channels import Channel, unusable_channel
from monitor.config.durations import format_duration
from monitor.config.env import Interpolator, as_written, mask_secrets
from monitor.config.errors import Invalid, from_validation_error
from monitor.config.settings import (
    DEFAULT_DATABASE,
    USER_AGENT_TEMPLATE,
    AlertSettings,
    BrowserSettings,
    LegacySettings,
    Politeness,
    Schedule,
    Settings,
    check_database_url,
    check_focus_caps,
    mask_database_url,
)
from monitor.config.source import interpolate, read_yaml
from monitor.config.targets import Prefecture, Rule, Rules, Step, Target, TargetConfig
from monitor.config.types import FrozenModel
from monitor.domain import DEFAULT_ENGINE, EventKind
from monitor.errors import ConfigError, NothingMatched

__all__ = [
    "AlertSettings",
    "BrowserSettings",
    "Channel",
    "Config",
    "LegacySettings",
    "Politeness",
    "Prefecture",
    "Rule",
    "Rules",
    "Schedule",
    "Settings",
    "Step",
    "Target",
    "TargetConfig",
    "dump_masked",
    "load_config",
    "resolve_database_url",
    "select_targets",
]

log = logging.getLogger(__name__)

DEFAULT_CONFIG = "prefectures.yaml"
_GLOB_CHARS = frozenset("*?[")


class Config(FrozenModel):
    """The whole file, validated. ``source`` is the file it was read from."""

    version: Literal[1]
    settings: Settings = Settings()
    channels: tuple[Channel, ...] = ()
    prefectures: tuple[Prefecture, ...]

    _source: Path = PrivateAttr(default=Path(DEFAULT_CONFIG))
    _secrets: frozenset[str] = PrivateAttr(default=frozenset())

    @field_validator("settings", "channels", "prefectures", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any, info: ValidationInfo) -> Any:
        # `channels:` with every entry commented out is YAML null: no channel.
        if value is None:
            return {} if info.field_name == "settings" else ()
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> Config:
        _unique([p.id for p in self.prefectures], "prefectures", "prefecture")
        _unique([c.id for c in self.channels], "channels", "channel")
        _check_learned(self.prefectures, self.settings)
        known = [target.id for target in self.targets(include_disabled=True)]
        for c, channel in enumerate(self.channels):
            for g, glob in enumerate(channel.targets):
                if not any(fnmatchcase(target_id, glob) for target_id in known):
                    listed = ", ".join(known[:5]) + (", …" if len(known) > 5 else "")
                    raise Invalid(
                        f"matches no target; configured targets are {listed or '(none)'}",
                        at=("channels", c, "targets", g),
                        value=glob,
                    )
        _console_for_assist(self)
        return self

    @property
    def source(self) -> Path:
        """The file this config was loaded from."""
        return self._source

    @property
    def secrets(self) -> frozenset[str]:
        """Every value the loader took from the environment (see monitor.config.env), to
        be masked wherever it could be printed."""
        return self._secrets

    def targets(self, *, include_disabled: bool = False) -> tuple[Target, ...]:
        """Every target, flattened in file order and resolved against the settings.

        Targets with ``enabled: false`` are left out unless ``include_disabled``.
        """
        resolved = []
        for prefecture in self.prefectures:
            for target in prefecture.targets:
                if target.enabled or include_disabled:
                    resolved.append(_resolve(prefecture, target, self.settings))
        return tuple(resolved)


def _resolve(prefecture: Prefecture, target: TargetConfig, settings: Settings) -> Target:
    schedule = settings.schedule
    # An explicit `active_hours: null` on a target means "always", hence fields_set.
    overrides_hours = "active_hours" in target.model_fields_set
    parts = urlsplit(target.url)
    return Target(
        id=f"{prefecture.id}/{target.id}",
        local_id=target.id,
        prefecture=prefecture.id,
        prefecture_name=prefecture.name,
        name=target.name,
        platform=target.platform,
        url=target.url,
        engine=target.engine if target.engine is not None else DEFAULT_ENGINE[target.platform],
        interval=target.interval if target.interval is not None else schedule.interval,
        jitter=target.jitter if target.jitter is not None else schedule.jitter,
        active_hours=target.active_hours if overrides_hours else schedule.active_hours,
        desks=target.desks,
        steps=target.steps,
        rules=target.rules,
        host=parts.netloc.rsplit("@", 1)[-1].lower(),
        enabled=target.enabled,
        calendar_weeks=settings.legacy.calendar_weeks,
        timezone=settings.timezone,
        written_url=target._written_url,
        focus=target.focus if target.focus is not None else schedule.focus,
        min_interval=target.min_interval or schedule.min_interval,
        max_interval=target.max_interval or schedule.max_interval,
        assist=target.assist,
    )


def _check_learned(prefectures: Sequence[Prefecture], settings: Settings) -> None:
    """A learned target's caps in order, and its interval between them (the budget it keeps
    must fit the caps: docs/contract.md#learned-schedule)."""
    for p, prefecture in enumerate(prefectures):
        for t, written in enumerate(prefecture.targets):
            target = _resolve(prefecture, written, settings)
            at = ("prefectures", p, "targets", t)
            check_focus_caps(target.min_interval, target.max_interval, at=at)
            if target.focus != "learned":
                continue
            if not target.min_interval <= target.interval <= target.max_interval:
                raise Invalid(
                    "is outside the learned schedule's "
                    f"caps (min_interval {format_duration(target.min_interval)} to "
                    f"max_interval {format_duration(target.max_interval)}); change the "
                    "interval or the caps (settings.schedule or the target's own)",
                    at=(*at, "interval"),
                    value=format_duration(target.interval),
                )


def _console_for_assist(config: Config) -> None:
    """Assisted sessions are opened from the console: ``assist: true`` needs one."""
    if config.settings.console is not None:
        return
    for p, prefecture in enumerate(config.prefectures):
        for t, target in enumerate(prefecture.targets):
            if target.assist:
                raise Invalid(
                    "needs settings.console: a person opens assisted sessions from the "
                    'operator console; add settings.console with token: "${MONITOR_CONSOLE_TOKEN}"'
                    " or remove assist",
                    at=("prefectures", p, "targets", t, "assist"),
                    value=True,
                )


def _unique(ids: Sequence[str], key: str, what: str) -> None:
    seen: dict[str, int] = {}
    for index, item_id in enumerate(ids):
        if item_id in seen:
            raise Invalid(
                f"is a duplicate {what} id; {key}[{seen[item_id]}] already uses it",
                at=(key, index, "id"),
                value=item_id,
            )
        seen[item_id] = index


def load_config(
    path: Path | str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    check_channels: bool = True,
) -> Config:
    """Read, interpolate and validate the config; raise ConfigError on any problem.

    The file is ``path``, else ``$MONITOR_CONFIG``, else ``./prefectures.yaml``.
    ``${NAME}`` / ``${NAME:-default}`` are replaced from ``env`` (default ``os.environ``)
    in every string value after YAML parsing and before validation. With ``check_channels``
    (as for ``config validate``, ``run`` and ``check``), a channel URL Apprise cannot use is
    refused too; without it Apprise is not imported (it loads every plugin: 0.2 s of CPU).
    """
    env = os.environ if env is None else env
    if path is not None:
        where = "--config"
    elif env.get("MONITOR_CONFIG"):
        path, where = env["MONITOR_CONFIG"], "$MONITOR_CONFIG"
    else:
        path, where = DEFAULT_CONFIG, "the current directory"
    source = str(path)
    raw = read_yaml(Path(path), source, where)
    if raw is None:
        raise ConfigError(
            f"{source}: the file is empty; it needs at least 'version: 1' and 'prefectures:'",
            path=source,
        )
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{source}: top level: {type(raw).__name__} is not a config; the file must be a "
            "mapping with 'version: 1', 'settings:', 'channels:' and 'prefectures:'",
            path=source,
        )
    settings = raw.get("settings")
    if settings is None or isinstance(settings, dict):
        # Defaulted here rather than in the model so that $MONITOR_CONTACT still applies.
        raw["settings"] = {"user_agent": USER_AGENT_TEMPLATE, **(settings or {})}
    interpolator = Interpolator(env)
    data = interpolate(raw, (), interpolator, source)
    secrets = frozenset(interpolator.secrets) | _console_token(data)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        # `from None`: pydantic's own text echoes input values, secrets included.
        raise from_validation_error(exc, source, Config, secrets) from None
    config._source = Path(path)
    config._secrets = secrets
    _keep_written_urls(config, raw)
    for channel in config.channels:
        channel._secrets = secrets
        channel._masked = None
    if check_channels:
        check_channel_urls(config, source)
    _warn_short_intervals(config)
    return config


def _console_token(data: Any) -> frozenset[str]:
    """The console's token, masked like any secret even when the file writes it out."""
    settings = data.get("settings") if isinstance(data, dict) else None
    console = settings.get("console") if isinstance(settings, dict) else None
    token = console.get("token") if isinstance(console, dict) else None
    return frozenset({token}) if isinstance(token, str) and token else frozenset()


def _keep_written_urls(config: Config, raw: dict[str, Any]) -> None:
    """Give each target its URL as the file writes it (before interpolation), for display."""
    for prefecture, written in zip(config.prefectures, raw.get("prefectures") or (), strict=False):
        targets = written.get("targets") if isinstance(written, dict) else None
        for target, entry in zip(prefecture.targets, targets or (), strict=False):
            url = entry.get("url") if isinstance(entry, dict) else None
            if isinstance(url, str) and url != target.url:
                target._written_url = url


def check_channel_urls(config: Config, source: str) -> None:
    """Refuse a channel URL Apprise cannot use: one line naming the channel, URL masked."""
    for index, channel in enumerate(config.channels):
        why = unusable_channel(channel)
        if why is not None:
            key = f"channels[{index}].url"
            raise ConfigError(
                f"{source}: {key}: {channel.masked_url!r} (channel {channel.id!r}) is not a "
                f"URL Apprise can use: {why}",
                path=source,
                key=key,
            )


def _warn_short_intervals(config: Config) -> None:
    minute = timedelta(minutes=1)
    if config.settings.schedule.interval < minute:
        log.warning(
            "settings.schedule.interval is %ss, below one minute: fine for tests and the "
            "demo, too aggressive for a public site",
            config.settings.schedule.interval.total_seconds(),
        )
    for target in config.targets(include_disabled=True):
        if target.interval < minute and target.interval != config.settings.schedule.interval:
            log.warning(
                "target %s probes every %ss, below one minute",
                target.id,
                target.interval.total_seconds(),
            )


def resolve_database_url(
    config: Config | None, override: str | None = None, env: Mapping[str, str] | None = None
) -> str:
    """The database URL: ``--database`` override, else ``$MONITOR_DATABASE_URL``, else
    ``settings.database`` (else the default sqlite file).

    Only sqlite and PostgreSQL via psycopg are accepted; ``postgresql://`` becomes
    ``postgresql+psycopg://``. A relative sqlite path (``sqlite:///var/monitor.db``) is
    relative to the current directory.
    """
    env = os.environ if env is None else env
    if override:
        url, origin = override, "--database"
    elif env.get("MONITOR_DATABASE_URL"):
        url, origin = env["MONITOR_DATABASE_URL"], "$MONITOR_DATABASE_URL"
    elif config is not None:
        url, origin = config.settings.database, f"{config.source}: settings.database"
    else:
        url, origin = DEFAULT_DATABASE, "default"
    try:
        return check_database_url(url)
    except Invalid as exc:
        raise ConfigError(f"{origin}: {exc.value!r} {exc.message}", key=origin) from None


def dump_masked(config: Config) -> dict[str, Any]:
    """The config as plain data (durations as ``10m``), safe to print.

    Channel URLs appear in Apprise's privacy form with what it leaves showing masked by
    shape (``monitor.config.masking``), the database password is masked, a target's URL is
    shown as written with each ``${…}`` masked, and every value that came from the
    environment (see ``monitor.config.env``) is replaced by ****.
    """
    data: dict[str, Any] = config.model_dump(mode="json", exclude={"prefectures"})
    data["settings"]["database"] = mask_database_url(config.settings.database)
    for channel, dumped in zip(config.channels, data["channels"], strict=True):
        dumped["url"] = channel.masked_url
        dumped["events"] = [kind.value for kind in EventKind if kind in channel.events]
    # Targets as written (exclude_unset): what they inherit from settings stays visible
    # as an absence, and an explicit `active_hours: null` stays distinct from none.
    data["prefectures"] = [
        {
            "id": prefecture.id,
            "name": prefecture.name,
            "targets": [_target_as_written(target) for target in prefecture.targets],
        }
        for prefecture in config.prefectures
    ]
    masked: dict[str, Any] = _mask_strings(data, config._secrets)
    return masked


def _target_as_written(target: TargetConfig) -> dict[str, Any]:
    dumped: dict[str, Any] = target.model_dump(mode="json", exclude_unset=True)
    if target._written_url is not None:
        dumped["url"] = as_written(target._written_url)
    if "steps" in dumped:
        dumped["steps"] = [_step_as_written(step) for step in target.steps]
    return dumped


def _step_as_written(step: Step) -> dict[str, Any]:
    if step.action == "goto":
        return {step.action: step.url}
    if step.value is not None:
        return {step.action: {"selector": step.selector, "value": step.value}}
    return {step.action: step.selector}


def _mask_strings(value: Any, secrets: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {k: _mask_strings(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_strings(v, secrets) for v in value]
    if isinstance(value, str):
        return mask_secrets(value, secrets)
    return value


def select_targets(config: Config, patterns: Sequence[str]) -> tuple[Target, ...]:
    """The enabled targets matching any of ``patterns``, in config order.

    A pattern is a full id (``92/remise-titre``, which also selects a disabled target), a
    glob on full ids (``92/*``, ``*/titre-*``) or a prefecture id alone (``92``: all its
    targets). No pattern means every enabled target. Raises NothingMatched naming the
    first pattern that matched nothing.
    """
    every = config.targets(include_disabled=True)
    enabled = [target for target in every if target.enabled]
    if not patterns:
        if not enabled:
            raise NothingMatched(f"{config.source}: no enabled target is configured")
        return tuple(enabled)
    chosen: set[str] = set()
    for pattern in patterns:
        if _GLOB_CHARS & set(pattern):
            hits = [t.id for t in enabled if fnmatchcase(t.id, pattern)]
        elif "/" in pattern:
            hits = [t.id for t in every if t.id == pattern]
        else:
            hits = [t.id for t in enabled if t.prefecture == pattern]
        if not hits:
            listed = ", ".join(t.id for t in enabled[:5]) + (", …" if len(enabled) > 5 else "")
            raise NothingMatched(
                f"no target matches {pattern!r}; configured targets are {listed or '(none)'}"
            )
        chosen.update(hits)
    return tuple(target for target in every if target.id in chosen)
