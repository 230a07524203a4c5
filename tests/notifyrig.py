"""What the notification tests share: the channels' secrets, their URLs and a config to load.

The `smtp` and `signal` fixtures that serve these channels live in conftest.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from monitor.domain import Event, EventKind

SMTP_USER = "alerts-bot"
SMTP_PASSWORD = "Zq8pw7secret"
SIGNAL_FROM = "+33600000001"
SIGNAL_TO = "+33611111111"
#: The environment the channel URLs' ``${…}`` placeholders are filled from.
ENV = {
    "SMTP_USER": SMTP_USER,
    "SMTP_PASSWORD": SMTP_PASSWORD,
    "SIGNAL_FROM": SIGNAL_FROM,
    "SIGNAL_TO": SIGNAL_TO,
}
#: What must never be printed, logged or stored.
SECRETS = (SMTP_PASSWORD, SIGNAL_FROM, SIGNAL_TO)
MAIL, SIGNAL = "team-mail", "signal-volunteers"

PREFECTURES = """
prefectures:
  - id: "92"
    name: Préfecture des Hauts-de-Seine
    targets:
      - id: remise-titre
        name: Remise de titre de séjour
        platform: legacy-booking
        url: https://www.hauts-de-seine.gouv.fr/booking/create/12083
  - id: "75"
    name: Préfecture de police
    targets:
      - id: titres
        name: Titres de séjour
        platform: legacy-booking
        url: https://www.prefecturedepolice.interieur.gouv.fr/booking/create/1
"""


def mail_url(smtp_port: int) -> str:
    """The mail channel's URL, its credentials left as placeholders for `ENV`."""
    return (
        f"mailto://${{SMTP_USER}}:${{SMTP_PASSWORD}}@127.0.0.1:{smtp_port}"
        "?mode=insecure&from=monitor@example.org&to=alerts@example.org"
    )


def signal_url(signal_port: int) -> str:
    """The Signal channel's URL, its numbers left as placeholders for `ENV`."""
    return f"signal://127.0.0.1:{signal_port}/${{SIGNAL_FROM}}/${{SIGNAL_TO}}"


def channels_yaml(smtp_port: int, signal_port: int) -> str:
    """Both channels: mail gets every event, Signal only slots opening in the 92, in English."""
    return f"""
  - id: {MAIL}
    url: "{mail_url(smtp_port)}"
  - id: {SIGNAL}
    url: "{signal_url(signal_port)}"
    events: [slots_opened]
    targets: ["92/*"]
    language: en
"""


def config_text(settings: str, channels: str) -> str:
    """A config with one `settings` line, the `channels` given and two prefectures (92, 75)."""
    return f"""
version: 1
settings:
  {settings}
channels:{channels}{PREFECTURES}"""


def write_config(tmp_path: Path, text: str, name: str = "prefectures.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


#: When the rig's events happened.
AT = datetime(2026, 3, 2, 13, 5, tzinfo=UTC)


def anomaly_started(text: str) -> Event:
    """An ``anomaly_started`` event whose page said ``text`` (a maintenance message)."""
    return Event(
        EventKind.ANOMALY_STARTED,
        "92/remise-titre",
        AT,
        outcome_id=9,
        payload={
            "status": "anomaly",
            "reason": "maintenance",
            "url": "https://www.hauts-de-seine.gouv.fr/booking/create/12083",
            "detail": f"maintenance: «{text}»",
            "detail_code": "maintenance",
            "detail_args": {"text": text},
            "since": AT.isoformat(),
            "outcome_started_at": AT.isoformat(),
        },
        id=3,
    )
