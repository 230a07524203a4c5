"""Prefectures and their targets as written in the file, and the resolved ``Target``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, get_args

from pydantic import Field, PrivateAttr, field_validator, model_validator

from monitor.config.durations import ActiveHours, Jitter
from monitor.config.env import as_written
from monitor.config.errors import Invalid
from monitor.config.types import (
    ActiveHoursSpec,
    Focus,
    FrozenModel,
    HttpUrl,
    JitterSpec,
    PositiveDuration,
    PrefectureId,
    TargetId,
    Text,
    check_http_url,
)
from monitor.domain import REASONS, Engine, Platform, Reason, Status

StepAction = Literal["goto", "click", "check", "fill", "select", "wait_for", "submit"]
STEP_ACTIONS: tuple[str, ...] = get_args(StepAction)
_SELECTOR_ACTIONS = ("click", "check", "wait_for", "submit")
_VALUE_ACTIONS = ("fill", "select")


class Step(FrozenModel):
    """One action of a generic target's flow.

    Written in the file as a one-key mapping (``- click: "#cookies a"``,
    ``- fill: {selector: "#cp", value: "75001"}``, ``- goto: /rdv``); held in this
    canonical form. ``goto`` takes an absolute http(s) URL or a path (``/rdv``) resolved
    against the target's URL, so that a flow also works on a test host.
    """

    action: StepAction
    selector: str | None = None
    value: str | None = None
    url: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and "action" in raw:
            return raw  # already canonical (e.g. a dump read back)
        if not isinstance(raw, dict) or len(raw) != 1:
            raise Invalid(
                f"is not a step; write one action per item, e.g. '- click: \"#id\"' "
                f"(actions: {', '.join(STEP_ACTIONS)})",
                value=raw,
            )
        ((action, argument),) = raw.items()
        if action not in STEP_ACTIONS:
            raise Invalid(
                f"is not a step action; use one of: {', '.join(STEP_ACTIONS)}", value=action
            )
        if action == "goto":
            if isinstance(argument, str) and argument.startswith("/"):
                return {"action": action, "url": argument}
            try:
                return {"action": action, "url": check_http_url(argument)}
            except Invalid:
                raise Invalid(
                    "is neither an http(s) URL nor a path starting with /",
                    at=("goto",),
                    value=argument,
                ) from None
        if action in _SELECTOR_ACTIONS:
            return {"action": action, "selector": _selector(argument, (action,))}
        return _value_step(action, argument)


def _selector(value: Any, at: tuple[str, ...]) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("is not a CSS selector; write a non-empty string", at=at, value=value)
    return value


def _value_step(action: str, argument: Any) -> dict[str, Any]:
    if not isinstance(argument, dict) or set(argument) != {"selector", "value"}:
        raise Invalid(
            f"needs exactly the keys selector and value, e.g. "
            f'\'{action}: {{selector: "#postcode", value: "75001"}}\'',
            at=(action,),
            value=argument,
        )
    value = argument["value"]
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)  # `value: 75001` is read by YAML as a number
    if not isinstance(value, str):
        raise Invalid("is not a string", at=(action, "value"), value=value)
    return {
        "action": action,
        "selector": _selector(argument["selector"], (action, "selector")),
        "value": value,
    }


class Rule(FrozenModel):
    """A sign on the page: a normalised text or a CSS selector, and what it means."""

    text: str | None = None
    selector: str | None = None
    reason: Reason

    @model_validator(mode="after")
    def _one_sign(self) -> Rule:
        if (self.text is None) == (self.selector is None):
            raise Invalid("needs exactly one of text or selector")
        key = "text" if self.text is not None else "selector"
        if not str(getattr(self, key)).strip():
            raise Invalid("must not be empty", at=(key,), value=getattr(self, key))
        return self


class Rules(FrozenModel):
    """A generic target's recognition rules; the first match wins, sections in this order."""

    anomaly: tuple[Rule, ...] = ()
    unavailable: tuple[Rule, ...] = ()
    available: tuple[Rule, ...] = ()

    @model_validator(mode="after")
    def _reasons_fit_sections(self) -> Rules:
        for section in ("anomaly", "unavailable", "available"):
            allowed = REASONS[Status(section)]
            for index, rule in enumerate(getattr(self, section)):
                if rule.reason not in allowed:
                    raise Invalid(
                        f"is not an {section} reason; use one of: "
                        f"{', '.join(r.value for r in allowed)}",
                        at=(section, index, "reason"),
                        value=rule.reason.value,
                    )
        if not (self.anomaly or self.unavailable or self.available):
            raise Invalid("has no rule; add at least one under anomaly, unavailable or available")
        return self


class TargetConfig(FrozenModel):
    """A target as written under a prefecture's ``targets:``."""

    id: TargetId
    name: Text
    platform: Platform
    url: HttpUrl
    interval: PositiveDuration | None = None
    jitter: JitterSpec | None = None
    #: Left out: the settings' window. Written as null: always active for this target.
    active_hours: ActiveHoursSpec | None = None
    focus: Focus | None = None
    min_interval: PositiveDuration | None = None
    max_interval: PositiveDuration | None = None
    engine: Engine | None = None
    desks: tuple[int, ...] = ()
    steps: tuple[Step, ...] = ()
    rules: Rules | None = None
    enabled: bool = True
    #: watched in sessions a person opens from the console (rdv-prefecture only)
    assist: bool = False

    #: ``url`` as the file writes it, before interpolation; set by the loader.
    _written_url: str | None = PrivateAttr(default=None)

    @field_validator("desks", mode="before")
    @classmethod
    def _desks_list(cls, value: Any) -> Any:
        return () if value is None else value

    @field_validator("desks")
    @classmethod
    def _desk_ids(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        for index, desk in enumerate(value):
            if desk <= 0:
                raise Invalid(
                    "is not a desk id (the number in planning<NNN>)", at=(index,), value=desk
                )
        return value

    @model_validator(mode="after")
    def _fits_platform(self) -> TargetConfig:
        if self.assist and self.platform is not Platform.RDV_PREFECTURE:
            raise Invalid(
                "is only for platform rdv-prefecture, whose slot page is behind a captcha a "
                f"person answers; platform {self.platform.value} is probed on its own: "
                "remove assist",
                at=("assist",),
                value=True,
            )
        if self.desks and self.platform is not Platform.LEGACY_BOOKING:
            raise Invalid(
                f"are only for platform legacy-booking, not {self.platform.value}",
                at=("desks",),
                value=list(self.desks),
            )
        if self.platform is Platform.GENERIC:
            if self.rules is None:
                raise Invalid(
                    "is required for platform generic: say which page text or element means "
                    "available, unavailable or anomaly",
                    at=("rules",),
                )
            return self
        for key in ("steps", "rules"):
            if key in self.model_fields_set and getattr(self, key):
                raise Invalid(
                    f"are only for platform generic; platform {self.platform.value} has its "
                    "own flow and rules",
                    at=(key,),
                )
        return self


class Prefecture(FrozenModel):
    """A prefecture (or any grouping such as the national ANEF portal) and its targets."""

    id: PrefectureId
    name: Text
    targets: tuple[TargetConfig, ...] = Field(default=())

    @field_validator("targets", mode="before")
    @classmethod
    def _no_targets(cls, value: Any) -> Any:
        # A prefecture may list no target yet (e.g. no booking page is known for it).
        return () if value is None else value

    @model_validator(mode="after")
    def _unique_target_ids(self) -> Prefecture:
        seen: dict[str, int] = {}
        for index, target in enumerate(self.targets):
            if target.id in seen:
                raise Invalid(
                    f"is a duplicate target id; targets[{seen[target.id]}] of this "
                    "prefecture already uses it",
                    at=("targets", index, "id"),
                    value=target.id,
                )
            seen[target.id] = index
        return self


@dataclass(frozen=True)
class Target:
    """A target resolved against its prefecture and the settings: what the probes use."""

    id: str  #: full id, "<prefecture>/<target>", e.g. "92/remise-titre"
    local_id: str
    prefecture: str
    prefecture_name: str
    name: str
    platform: Platform
    url: str
    engine: Engine
    interval: timedelta
    jitter: Jitter
    active_hours: ActiveHours | None
    desks: tuple[int, ...]
    steps: tuple[Step, ...]
    rules: Rules | None
    host: str  #: lowercase host[:port] of url, the key of per-host politeness
    enabled: bool = True
    #: legacy-booking: weeks of the AJAX calendar read per desk (settings.legacy)
    calendar_weeks: int = 6
    #: the sites' time zone (settings.timezone): a time a page shows without a date or
    #: offset of its own, such as a calendar cell's, is read in it
    timezone: str = "Europe/Paris"
    #: ``url`` as the config file writes it, before ``${…}`` interpolation (None: as url)
    written_url: str | None = None
    #: schedule.focus and its caps (docs/contract.md#settings)
    focus: Focus = "even"
    min_interval: timedelta = timedelta(minutes=2)
    max_interval: timedelta = timedelta(hours=2)

    #: watched in assisted sessions opened from the console (docs/contract.md#assisted-sessions)
    assist: bool = False

    @property
    def longest_gap(self) -> timedelta:
        """The longest time between two of its probes in active hours: its interval, or a
        learned target's max_interval (docs/contract.md#not-observed)."""
        return max(self.interval, self.max_interval) if self.focus == "learned" else self.interval

    @property
    def public_url(self) -> str:
        """The booking URL as it may be shown to anyone: as the config writes it, with
        each ``${…}`` part masked (its value may be a key: the site's, or the user's)."""
        return self.url if self.written_url is None else as_written(self.written_url)
