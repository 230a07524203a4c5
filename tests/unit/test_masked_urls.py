"""Secrets in URLs: a channel, database or booking URL is shown without what it hides.

The commands that must never print a secret, whatever holds it, are run for real in
tests/system/test_quiet_secrets.py.
"""

from __future__ import annotations

import pytest

from monitor.config import Channel
from monitor.config.env import as_written
from monitor.config.settings import mask_database_url as mask_in_config
from monitor.store.engine import mask_database_url as mask_in_store

SECRET = "s3cr3tValue7Q"  # what each shape below hides, written literally in the URL


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        (f"json://hooks.example.org/?+X-Token={SECRET}", "json://hooks.example.org"),
        (f"json://hooks.example.org/?:token={SECRET}", "json://hooks.example.org"),
        (f"json://hooks.example.org/?%3AX-Api-Key={SECRET}", "json://hooks.example.org"),
        (f"json://hooks.example.org/?-apikey={SECRET}", "json://hooks.example.org"),
        (f"xml://hooks.example.org/?+Authorization=Bearer%20{SECRET}", "xml://hooks.example.org"),
        (f"form://hooks.example.org/hook?-access_token={SECRET}", "form://hooks.example.org"),
        (f"json://hooks.example.org/api/v1/{SECRET}Abcdef12", "json://hooks.example.org/api/v1/"),
        (f"json://user:{SECRET}@hooks.example.org/", "json://user:****@hooks.example.org"),
        (f"ntfy://alerts:{SECRET}@ntfy.example.org/topic", "ntfy://alerts:****@"),
        ("signal://127.0.0.1:8080/+33611122233/+33644455566", "signal://127.0.0.1:8080/"),
        (f"mailtos://smtp.example.org?user=ops&pass={SECRET}", "mailtos://"),
        (f"discord://1234567/{SECRET}", "discord://"),
    ],
)
def test_a_channel_url_is_shown_without_its_secrets(url: str, kept: str) -> None:
    shown = Channel(id="c", url=url).masked_url
    secrets = [SECRET, "+33611122233", "33611122233", "+33644455566"]
    assert [secret for secret in secrets if secret in shown] == [], shown
    assert shown.startswith(kept), shown


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://monitor:{SECRET}@db.example.org/monitor",
        f"postgresql+psycopg://monitor@db.example.org/monitor?password={SECRET}",
        f"postgresql://db.example.org/monitor?sslmode=require&PASSWORD={SECRET}",
        f"postgres://monitor:{SECRET}@db.example.org:5432/monitor?password={SECRET}",
        f"postgresql://monitor@db.example.org/monitor?sslpassword={SECRET}&application_name=m",
    ],
)
def test_a_database_url_is_shown_without_its_password(url: str) -> None:
    for mask in (mask_in_config, mask_in_store):
        shown = mask(url)
        assert SECRET not in shown
        assert "db.example.org" in shown and "***" in shown


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///var/monitor.db",
        "sqlite:////srv/monitor/monitor.db",
        "postgresql+psycopg://monitor@db.example.org/monitor?sslmode=require",
    ],
)
def test_a_database_url_without_password_is_shown_as_written(url: str) -> None:
    assert mask_in_config(url) == url
    assert mask_in_store(url) == url


def test_a_reference_is_shown_as_written_and_masked() -> None:
    assert as_written("https://x.gouv.fr/rdv?key=${BOOKING_KEY}") == (
        "https://x.gouv.fr/rdv?key=${…}"
    )
    assert as_written("https://${HOST:-x.gouv.fr}/a/$${literal}") == "https://${…}/a/${literal}"
