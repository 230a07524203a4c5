"""The Apprise adapter and `monitor notify test`, against a real SMTP server and a Signal stub.

Nothing is mocked: Apprise's own mailto:// and signal:// plugins talk to aiosmtpd and to a
local stand-in for signal-cli-rest-api over real sockets.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import notifyrig
import pytest
from notifyrig import ENV, SIGNAL_FROM, SIGNAL_TO, SMTP_USER, channels_yaml, write_config
from signal_stub import SignalStub
from smtp_server import AUTH_WITHOUT_TLS_IS_FINE_HERE, SMTPServer

from monitor.alerts import notify
from monitor.alerts.messages import Message
from monitor.cli import main
from monitor.config import Channel, Config, load_config
from monitor.domain import MONITOR_TARGET, Event, EventKind
from monitor.errors import NotificationError

pytestmark = AUTH_WITHOUT_TLS_IS_FINE_HERE

SECRETS = (*notifyrig.SECRETS, SIGNAL_FROM[1:], SIGNAL_TO[1:])
OPENED_AT = datetime(2026, 3, 2, 13, 5, tzinfo=UTC)  # 14 h 05 in Paris
PNG = b"\x89PNG\r\n\x1a\n fake screenshot bytes"


def config_text(smtp_port: int, signal_port: int) -> str:
    return notifyrig.config_text("language: fr", channels_yaml(smtp_port, signal_port))


@pytest.fixture
def config(tmp_path: Path, smtp: SMTPServer, signal: SignalStub) -> Config:
    return load_config(write_config(tmp_path, config_text(smtp.port, signal.port)), env=ENV)


def channel(config: Config, channel_id: str) -> Channel:
    return next(c for c in config.channels if c.id == channel_id)


def slots_opened(target: str = "92/remise-titre") -> Event:
    return Event(
        EventKind.SLOTS_OPENED,
        target,
        OPENED_AT,
        outcome_id=7,
        payload={
            "status": "available",
            "reason": "slots",
            "url": "https://www.hauts-de-seine.gouv.fr/booking/create/12083",
            "slot_count": 3,
            "earliest_slot": "2026-03-09T08:30:00+00:00",
            "since": OPENED_AT.isoformat(),
            "outcome_started_at": OPENED_AT.isoformat(),
        },
        id=1,
    )


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


# -- sending ----------------------------------------------------------------------------------


async def test_it_emails_the_full_message_with_the_screenshot_attached(
    tmp_path: Path, config: Config, smtp: SMTPServer
) -> None:
    screenshot = tmp_path / "shot.png"
    screenshot.write_bytes(PNG)
    mail = channel(config, "team-mail")
    message = notify.compose(mail, slots_opened(), config)

    await notify.send(
        mail,
        message,
        attachment=screenshot,
        attachment_name=notify.attachment_name(slots_opened(), config),
    )

    [received] = smtp.wait_for(1)
    assert received.subject == message.title
    assert received.subject.startswith("Créneaux disponibles — Préfecture des Hauts-de-Seine")
    assert "https://www.hauts-de-seine.gouv.fr/booking/create/12083" in received.text
    assert "lundi 2 mars 2026 à 14 h 05" in received.text
    assert received.rcpt_tos == ("alerts@example.org",)
    [attached] = received.attachments
    assert attached.content == PNG
    assert attached.filename == "92-remise-titre-20260302-140500.png"
    assert smtp.logins == [(SMTP_USER, True)]


async def test_it_posts_the_short_message_to_signal_v2_send_with_its_attachment(
    tmp_path: Path, config: Config, signal: SignalStub
) -> None:
    screenshot = tmp_path / "shot.png"
    screenshot.write_bytes(PNG)
    volunteers = channel(config, "signal-volunteers")
    message = notify.compose(volunteers, slots_opened(), config)

    await notify.send(volunteers, message, attachment=screenshot)

    [request] = signal.wait_for(1)
    assert request.path == "/v2/send"
    assert request.payload["number"] == SIGNAL_FROM
    assert request.recipients == [SIGNAL_TO]
    assert request.message.startswith("Slots available — Préfecture des Hauts-de-Seine")
    assert "3 slots; earliest Monday 9 March 2026, 09:30" in request.message
    assert request.attachments == [PNG]


def test_it_writes_each_channel_in_its_language_and_form(config: Config) -> None:
    mail = notify.compose(channel(config, "team-mail"), slots_opened(), config)
    short = notify.compose(channel(config, "signal-volunteers"), slots_opened(), config)

    assert "Créneaux proposés : 3" in mail.body  # settings.language: fr, full text
    assert "Réservez vous-même" in mail.body
    assert short.title.startswith("Slots available")  # channel language: en, short form
    assert len(short.body.splitlines()) == 2
    assert notify.takes_attachment(channel(config, "team-mail"))
    assert not notify.takes_attachment(channel(config, "signal-volunteers"))


def test_it_names_a_target_removed_from_the_config_by_its_id(config: Config) -> None:
    message = notify.compose(channel(config, "team-mail"), slots_opened("13/gone"), config)
    assert "13" in message.title and "13/gone" in message.title


def test_it_writes_monitor_events_without_a_prefecture(config: Config) -> None:
    event = Event(
        EventKind.MONITOR_DEGRADED,
        MONITOR_TARGET,
        OPENED_AT,
        payload={"detail": "réseau coupé", "since": OPENED_AT.isoformat()},
    )
    message = notify.compose(channel(config, "team-mail"), event, config)
    assert message.title == "Moniteur en difficulté"


async def test_it_does_not_throttle_between_the_recipients_of_one_message(
    tmp_path: Path, signal: SignalStub
) -> None:
    # Apprise waits 5.5 s between two requests of one plugin object unless told otherwise.
    numbers = [f"+3361111111{i}" for i in range(3)]
    many = Channel(id="many", url=signal.url(SIGNAL_FROM, *numbers))
    started = time.monotonic()
    await notify.send(many, Message("Title", "Body"))
    assert time.monotonic() - started < 3
    assert sorted(r.recipients[0] for r in signal.wait_for(3)) == numbers


# -- failures ---------------------------------------------------------------------------------


async def failure_of(channel: Channel) -> NotificationError:
    with pytest.raises(NotificationError) as caught:
        await notify.send(channel, Message("Title", "Body"))
    return caught.value


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(500, False), (502, False), (503, False), (429, False), (408, False), (400, True),
     (401, True), (403, True), (404, True)],
)  # fmt: skip
async def test_it_maps_signal_api_statuses_to_transient_or_permanent(
    config: Config, signal: SignalStub, status: int, permanent: bool
) -> None:
    signal.status = status
    error = await failure_of(channel(config, "signal-volunteers"))
    assert error.permanent is permanent
    assert f"error={status}" in str(error)
    assert_no_secret(str(error))


async def test_it_retries_a_signal_api_that_refuses_connections(
    config: Config, signal: SignalStub
) -> None:
    signal.stop()
    error = await failure_of(channel(config, "signal-volunteers"))
    assert not error.permanent
    assert "Connection refused" in str(error)
    assert_no_secret(str(error))


async def test_it_gives_up_at_once_on_a_wrong_smtp_password(
    tmp_path: Path, smtp: SMTPServer
) -> None:
    wrong = Channel(id="mail", url=smtp.url(user=SMTP_USER, password="not-the-password"))
    error = await failure_of(wrong)
    assert error.permanent
    assert "535" in str(error)
    assert "not-the-password" not in str(error)
    assert smtp.messages == []


@pytest.mark.parametrize(
    ("command", "reply", "permanent"),
    [
        ("mail", "451 4.3.0 Try again later", False),
        ("mail", "421 4.7.0 Too many connections", False),
        ("rcpt", "452 4.2.2 Mailbox full", False),
        ("rcpt", "550 5.1.1 No such user", True),
        ("mail", "554 5.7.1 Rejected", True),
    ],
)
async def test_it_maps_smtp_replies_to_transient_or_permanent(
    config: Config, smtp: SMTPServer, command: str, reply: str, permanent: bool
) -> None:
    if command == "mail":
        smtp.behaviour.mail_reply = reply
    else:
        smtp.behaviour.rcpt_reply = reply
    error = await failure_of(channel(config, "team-mail"))
    assert error.permanent is permanent
    assert reply.split()[0] in str(error)
    assert_no_secret(str(error))


async def test_it_retries_an_smtp_server_that_is_down(config: Config, smtp: SMTPServer) -> None:
    smtp.stop()
    error = await failure_of(channel(config, "team-mail"))
    assert not error.permanent
    assert "Connection refused" in str(error)
    assert_no_secret(str(error))


@pytest.mark.parametrize(
    "url",
    [
        "nosuchscheme://host/path",
        "signal://127.0.0.1:9/not-a-phone-number",
        "mailto://no_at_sign",
    ],
)
async def test_it_gives_up_at_once_on_a_url_apprise_cannot_use(url: str) -> None:
    error = await failure_of(Channel(id="broken", url=url))
    assert error.permanent
    assert str(error).startswith("invalid channel URL")


# -- secrets ----------------------------------------------------------------------------------


async def test_it_never_shows_a_secret_in_errors_or_logs(
    config: Config,
    smtp: SMTPServer,
    signal: SignalStub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Everything, Apprise's relayed lines included (set on "monitor" itself: a CLI test run
    # before may have configured it INFO and non-propagating, as `monitor` does).
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="monitor")
    signal.status = 500
    smtp.behaviour.rcpt_reply = f"550 5.1.1 {SIGNAL_TO} unknown"  # a server echoing a secret
    errors = [
        await failure_of(channel(config, "signal-volunteers")),
        await failure_of(channel(config, "team-mail")),
    ]
    ours = [r for r in caplog.records if r.name.startswith("monitor")]
    assert any("apprise WARNING" in r.getMessage() for r in ours)  # relayed, masked
    # Apprise's raw lines (recipients in clear) never reach the application's handlers.
    # (pytest's capture hooks into non-propagating loggers itself, hence no caplog check.)
    assert logging.getLogger("apprise").propagate is False
    for text in [*(str(error) for error in errors), *(r.getMessage() for r in ours)]:
        assert_no_secret(text)
    assert "****" in str(errors[0])


# -- monitor notify test ----------------------------------------------------------------------


RunMonitor = Callable[[list[str]], tuple[int, str, str]]


@pytest.fixture
def monitor_cli(
    tmp_path: Path,
    smtp: SMTPServer,
    signal: SignalStub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> RunMonitor:
    """`monitor --config <both channels' config> ARGS` in-process: (exit code, stdout, stderr)."""
    path = write_config(tmp_path, config_text(smtp.port, signal.port))
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)

    def run(args: list[str]) -> tuple[int, str, str]:
        try:
            main(["--config", str(path), *args])
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_notify_test_sends_to_every_channel_and_says_ok(
    monitor_cli: RunMonitor, smtp: SMTPServer, signal: SignalStub
) -> None:
    code, out, _ = monitor_cli(["notify", "test"])
    assert code == 0
    assert out.splitlines() == ["team-mail          ok", "signal-volunteers  ok"]
    [mail] = smtp.wait_for(1)
    assert mail.subject == "Message de test de prefecture-monitor"
    [request] = signal.wait_for(1)
    assert request.message.startswith("prefecture-monitor test message")  # language: en


def test_notify_test_exits_1_naming_the_failed_channel_by_its_masked_url(
    monitor_cli: RunMonitor, signal: SignalStub
) -> None:
    signal.status = 401
    code, out, err = monitor_cli(["notify", "test"])
    assert code == 1
    ok, failed = out.splitlines()
    assert ok == "team-mail          ok"
    assert failed.startswith(f"signal-volunteers  FAILED  signal://127.0.0.1:{signal.port}/")
    assert "permanent error" in failed and "error=401" in failed
    assert "1 of 2 channel(s) failed" in err
    assert_no_secret(out + err)


def test_notify_test_sends_to_the_one_channel_asked_for(
    monitor_cli: RunMonitor, smtp: SMTPServer, signal: SignalStub
) -> None:
    code, out, _ = monitor_cli(["notify", "test", "--channel", "team-mail"])
    assert (code, out) == (0, "team-mail  ok\n")
    smtp.wait_for(1)
    assert signal.received == []


def test_notify_test_exits_3_for_an_unknown_channel(
    monitor_cli: RunMonitor, smtp: SMTPServer, signal: SignalStub
) -> None:
    code, _, err = monitor_cli(["notify", "test", "--channel", "nope"])
    assert code == 3
    assert "no channel 'nope'" in err and "team-mail, signal-volunteers" in err
    assert smtp.messages == [] and signal.received == []


def test_notify_test_needs_no_database(tmp_path: Path, monitor_cli: RunMonitor) -> None:
    args = ["--database", "postgresql://nobody@127.0.0.1:9/none"]
    code, _, _ = monitor_cli([*args, "notify", "test"])
    assert code == 0
    assert not (tmp_path / "var").exists()


def test_send_runs_apprise_off_the_event_loop() -> None:
    # A slow service must not stall the loop that runs every other lane.
    async def scenario() -> float:
        with SignalStub(delay=0.5) as slow:
            ticks = 0

            async def tick() -> None:
                nonlocal ticks
                while True:
                    await asyncio.sleep(0.05)
                    ticks += 1

            ticker = asyncio.create_task(tick())
            await notify.send(Channel(id="slow", url=slow.url(SIGNAL_FROM)), Message("T", "B"))
            ticker.cancel()
            return ticks

    assert asyncio.run(scenario()) >= 5
