"""`monitor notify test [--channel ID]`: send a test message to the channels.

No database: the message goes straight through Apprise, one channel at a time reported,
all channels at once sent. Each line names the channel and says ``ok`` or why it failed,
with the URL only in its masked form. Exit 1 when any channel failed, 3 for an unknown id.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import click

from monitor.commands.common import App, pass_app

if TYPE_CHECKING:
    from monitor.config import Channel

#: A channel that has not answered after this long is reported as failed.
TEST_TIMEOUT = 60.0


@click.group("notify")
def notify_group() -> None:
    """Notification channels."""


@notify_group.command("test")
@click.option("--channel", "channel_id", metavar="ID", help="Only this channel [default: all].")
@pass_app
def test_cmd(app: App, channel_id: str | None) -> None:
    """Send a test message to every channel (or one) and report each result."""
    from monitor.errors import NothingMatched, NotificationError

    config = app.config
    channels = config.channels
    if channel_id is not None:
        channels = tuple(channel for channel in channels if channel.id == channel_id)
        if not channels:
            known = ", ".join(channel.id for channel in config.channels) or "(none)"
            raise NothingMatched(f"no channel {channel_id!r}; configured channels are {known}")
    if not channels:
        raise NothingMatched(f"{config.source}: no channel is configured")
    results = asyncio.run(_send_all(channels, config.settings.language))
    width = max(len(channel.id) for channel in channels)
    failures = 0
    for channel, error in zip(channels, results, strict=True):
        if error is None:
            click.echo(f"{channel.id:<{width}}  ok")
        else:
            failures += 1
            click.echo(f"{channel.id:<{width}}  FAILED  {channel.masked_url}: {error}")
    if failures:
        raise NotificationError(f"{failures} of {len(channels)} channel(s) failed")


async def _send_all(channels: tuple[Channel, ...], language: str) -> list[str | None]:
    """Send to every channel concurrently; the masked reason of each failure, else None."""
    return list(await asyncio.gather(*(_send_one(channel, language) for channel in channels)))


async def _send_one(channel: Channel, default_language: str) -> str | None:
    from monitor.alerts import notify
    from monitor.alerts.messages import render_test
    from monitor.errors import NotificationError

    message = render_test(channel.language or default_language)
    try:
        await asyncio.wait_for(notify.send(channel, message), TEST_TIMEOUT)
    except NotificationError as error:
        kind = "permanent" if error.permanent else "transient"
        return f"{kind} error: {error}"
    except TimeoutError:
        return f"no answer within {TEST_TIMEOUT:g}s"
    return None
