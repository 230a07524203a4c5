"""``assist_needed`` end to end (issue 27): written by ask_for_assist, claimed by the real
dispatcher, sent by email to a real SMTP server on loopback with the console's address;
a channel that does not subscribe gets nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from notifyrig import ENV, MAIL, channels_yaml, config_text, write_config
from signal_stub import SignalStub
from smtp_server import AUTH_WITHOUT_TLS_IS_FINE_HERE, SMTPServer
from sqlalchemy import select

from monitor.alerts.dispatcher import Dispatcher
from monitor.config import Config, load_config
from monitor.store import Repository, create_engine_for, upgrade
from monitor.store.rows import deliveries

pytestmark = AUTH_WITHOUT_TLS_IS_FINE_HERE

T0 = datetime(2027, 2, 1, 16, 30, tzinfo=UTC)  # 17:30 in Paris
CONSOLE = "https://console.asso.example.org/"


@pytest.fixture
def config(tmp_path: Path, smtp: SMTPServer, signal: SignalStub) -> Config:
    text = config_text(
        f"evidence_dir: {tmp_path / 'evidence'}", channels_yaml(smtp.port, signal.port)
    )
    return load_config(write_config(tmp_path, text), env=ENV)


@pytest.fixture
def repository(tmp_path: Path) -> Iterator[Repository]:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    upgrade(url)
    engine = create_engine_for(url)
    yield Repository(engine)
    engine.dispose()


async def test_assist_needed_reaches_the_subscribed_mail_with_the_consoles_address(
    repository: Repository, config: Config, smtp: SMTPServer, signal: SignalStub
) -> None:
    session = repository.open_assist_session("92/remise-titre", "paris-1", "Camille", T0)
    repository.end_assist_session(session, "reads_used", 6, T0 + timedelta(hours=1))
    later = T0 + timedelta(hours=1, minutes=5)
    # Mail gets every event; Signal only slots_opened: one delivery.
    assert repository.ask_for_assist(
        "92/remise-titre", console_url=CONSOLE, channels=config.channels, now=later
    )
    sender = Dispatcher(
        repository, config, node="paris-1", send_timeout=10.0, lease=timedelta(seconds=30)
    )
    assert await sender.run_once(later) == 1
    await sender.aclose()

    [mail] = smtp.wait_for(1)
    assert mail.subject == (
        "Session assistée demandée — Préfecture des Hauts-de-Seine : Remise de titre de séjour"
    )
    body = mail.text
    assert f"Console : {CONSOLE}" in body
    assert "Une personne est demandée pour ouvrir une session assistée" in body
    assert "Dernière session terminée : lundi 1er février 2027 à 18 h 30" in body
    assert "(toutes les lectures prévues ont été faites)" in body
    assert signal.received == []
    assert repository.outbox_depth() == 0
    with repository.engine.connect() as connection:
        sent = connection.execute(select(deliveries.c.channel_id, deliveries.c.state)).all()
    assert [tuple(row) for row in sent] == [(MAIL, "sent")]
