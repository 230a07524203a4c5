"""Notification channels: an Apprise URL, the events it wants, the targets it follows.

A channel URL carries credentials, so it is only ever shown through ``masked_url``
(``repr()`` and ``str()`` of a channel included).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from fnmatch import fnmatchcase
from typing import Any

from pydantic import PrivateAttr, field_validator

from monitor.config.env import MASK, mask_secrets
from monitor.config.errors import Invalid
from monitor.config.masking import mask_url_parts
from monitor.config.types import ChannelId, FrozenModel, Glob, Language
from monitor.domain import EventKind, is_monitor_key

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://\S")
_APPRISE_LOGGER = logging.getLogger("apprise")


class Channel(FrozenModel):
    """One entry of ``channels:``."""

    id: ChannelId
    url: str
    events: frozenset[EventKind] = frozenset(EventKind)
    targets: tuple[Glob, ...] = ("*",)
    language: Language | None = None

    #: Set by the loader; read through ``secrets``.
    _secrets: frozenset[str] = PrivateAttr(default=frozenset())
    _masked: str | None = PrivateAttr(default=None)  # Apprise parsing is not free: once

    @field_validator("url")
    @classmethod
    def _apprise_url(cls, value: str) -> str:
        if not _SCHEME.match(value):
            # The value is not echoed: even a malformed channel URL may hold a password.
            raise Invalid("is not an Apprise URL; write scheme://…, e.g. mailtos://user:pass@host")
        return value

    @field_validator("events", "targets", mode="before")
    @classmethod
    def _not_empty(cls, value: Any) -> Any:
        if isinstance(value, list | tuple) and not value:
            raise Invalid("is empty; leave the key out to mean all", value=value)
        return value

    def matches(self, target_id: str) -> bool:
        """Whether events of this full target id go to the channel.

        The monitor's own health (``MONITOR_TARGET``) concerns every target, so it always
        matches; a channel that does not want it leaves monitor_* out of ``events``.
        """
        if is_monitor_key(target_id):
            return True
        return any(fnmatchcase(target_id, glob) for glob in self.targets)

    def wants(self, kind: EventKind) -> bool:
        """Whether the channel subscribes to this kind of event."""
        return kind in self.events

    @property
    def secrets(self) -> frozenset[str]:
        """The values the config took from the environment (``${SMTP_PASSWORD}``,
        ``${SIGNAL_TO}``, ``${ALICE}`` …: see monitor.config.env), to be masked in any text
        about this channel: Apprise's privacy form hides passwords and tokens but shows
        e.g. Signal phone numbers. Set by the loader (empty for a channel built by hand); it holds
        those interpolated into this channel's URL, and those of the rest of the file too.
        """
        return self._secrets

    @property
    def masked_url(self) -> str:
        """The URL as Apprise prints it with ``privacy=True``, with the values the config
        interpolated, headers, payload fields, keys and phone numbers masked too;
        ``scheme://****`` when Apprise cannot read the URL."""
        if self._masked is None:
            self._masked = mask_apprise_url(self.url, self._secrets)
        return self._masked

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # pydantic's repr() and str() show every field: the URL only in its masked form.
        for name, value in super().__repr_args__():
            yield name, self.masked_url if name == "url" else value


def mask_apprise_url(url: str, secrets: frozenset[str] = frozenset()) -> str:
    """Apprise's privacy form of ``url`` with ``secrets`` masked; never the raw URL."""
    import apprise  # here, not at the top: a config without channels never needs Apprise

    with _apprise_silenced():
        try:
            plugin = apprise.Apprise.instantiate(url)
            shown = plugin.url(privacy=True) if plugin else None  # type: ignore[no-untyped-call]
        except Exception:  # a third-party parser: any failure means "cannot show it"
            shown = None
    if not isinstance(shown, str):
        scheme = url.split("://", 1)[0] if "://" in url else ""
        return f"{scheme}://{MASK}" if scheme else MASK
    # Apprise shows a webhook's headers and payload fields, phone numbers, keys in a path:
    # those are masked by their key and their shape (monitor.config.masking).
    return mask_secrets(mask_url_parts(shown), secrets)


class _DropAll(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


@contextmanager
def _apprise_silenced() -> Iterator[None]:
    """Apprise logs parts of a URL it fails to parse (e.g. a phone number): drop those."""
    dropper = _DropAll()
    _APPRISE_LOGGER.addFilter(dropper)
    try:
        yield
    finally:
        _APPRISE_LOGGER.removeFilter(dropper)


def unusable_channel(channel: Channel) -> str | None:
    """Why Apprise cannot use ``channel``'s URL, in words that show none of it; else None.

    Checked when the config is loaded, so that a URL that could only fail at send time is
    refused by ``config validate`` (and ``run``) instead. Apprise's own log lines about a
    URL it rejects quote parts of it (a login, a phone number): they are dropped, not shown.
    """
    import apprise  # here, not at the top: a config without channels never needs Apprise

    scheme = channel.url.split("://", 1)[0].lower()
    with _apprise_silenced():
        try:
            if scheme not in _known_schemes():
                return f"no Apprise service is called {scheme!r}"
            plugin = apprise.Apprise.instantiate(channel.url)
        except Exception:  # a third-party parser: any failure means "cannot use it"
            plugin = None
    if plugin:
        return None
    return (
        f"Apprise's {scheme!r} service cannot read this URL (a login or password holding "
        "'@', ':' or '/' must be percent-encoded, e.g. %40 for '@'; see the service's page "
        "in Apprise's documentation)"
    )


def _known_schemes() -> frozenset[str]:
    from apprise.manager_plugins import NotificationManager

    schemas = NotificationManager().schemas()  # type: ignore[no-untyped-call]
    return frozenset(str(schema).lower() for schema in schemas)
