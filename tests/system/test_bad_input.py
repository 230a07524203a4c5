"""Bad input refused at once, in one line, with the contract's exit code and no traceback
(docs/contract.md#exit-codes; issue 12).

A channel URL Apprise cannot use used to pass ``config validate`` and fail only at send
time; an evidence directory that cannot be written failed in the middle of a probe. Both
now stop the real command at start (run as a subprocess, as a user runs it), exit 2, and
show neither a secret nor a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from checkrun import Run, monitor, write_config
from helpers import migrated

from monitor.config import Channel
from monitor.config.channels import unusable_channel

PASSWORD = "fake-Pa55word-do-not-print"
TARGET = {
    "id": "a",
    "name": "A",
    "platform": "rdv-service-public",
    "url": "http://127.0.0.1:9/",
    "engine": "http",
}


def config_with_channel(tmp_path: Path, url: str) -> Path:
    path = write_config(
        tmp_path / "prefectures.yaml",
        targets=[TARGET],
        database=f"sqlite:///{tmp_path / 'm.db'}",
        evidence_dir=tmp_path / "evidence",
    )
    config = yaml.safe_load(path.read_text())
    config["channels"] = [{"id": "team-mail", "url": url}]
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return path


def assert_one_line_error(run: Run, code: int, *, never: tuple[str, ...] = ()) -> str:
    assert run.code == code, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""
    for secret in never:
        assert secret not in run.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("url", "env", "never", "shown"),
    [
        (
            f"notaservice://volunteer:{PASSWORD}@host.example.org",
            {},
            (PASSWORD, "volunteer"),
            "'notaservice://****' (channel 'team-mail') is not a URL Apprise can use: "
            "no Apprise service is called 'notaservice'",
        ),
        (
            # A login holding a raw '@': Apprise cannot read where the host starts.
            "mailtos://${SMTP_USER}:${SMTP_PASSWORD}@smtp.example.org?to=alerts@example.org",
            {"SMTP_USER": "volunteer@example.org", "SMTP_PASSWORD": PASSWORD},
            (PASSWORD, "volunteer"),
            "'mailtos://****' (channel 'team-mail') is not a URL Apprise can use: "
            "Apprise's 'mailtos' service cannot read this URL (a login or password holding '@'",
        ),
        (
            "signal://127.0.0.1:8080/${SIGNAL_FROM}/",
            {"SIGNAL_FROM": "+3360"},
            ("+3360",),
            "'signal://****' (channel 'team-mail') is not a URL Apprise can use",
        ),
    ],
)
def test_config_validate_refuses_a_channel_url_apprise_cannot_use(
    tmp_path: Path, url: str, env: dict[str, str], never: tuple[str, ...], shown: str
) -> None:
    config = config_with_channel(tmp_path, url)
    run = monitor("--config", str(config), "config", "validate", env=env)
    line = assert_one_line_error(run, 2, never=never)
    assert line.startswith(f"monitor: error: {config}: channels[0].url: ")
    assert shown in line


def test_a_percent_encoded_login_is_valid_and_never_shown_even_decoded(tmp_path: Path) -> None:
    url = "mailtos://${SMTP_USER}:${SMTP_PASSWORD}@smtp.example.org?to=alerts@example.org"
    config = config_with_channel(tmp_path, url)
    env = {"SMTP_USER": "volunteer%40example.org", "SMTP_PASSWORD": PASSWORD}
    run = monitor("--config", str(config), "config", "validate", env=env)
    assert run.code == 0, run.stderr
    assert "mailtos://****:****@smtp.example.org" in run.stdout  # Apprise shows "volunteer"
    for secret in (PASSWORD, "volunteer", "volunteer%40example.org"):
        assert secret not in run.stdout + run.stderr


@pytest.mark.parametrize(
    "url",
    [
        "json://localhost",
        "mailtos://user:pw@smtp.example.org?to=a@example.org",
        "signal://h/+33612345678/",
    ],
)
def test_urls_apprise_can_use_pass(url: str) -> None:
    assert unusable_channel(Channel(id="c", url=url)) is None


@pytest.mark.parametrize("command", [("check",), ("run", "--once")])
def test_an_evidence_dir_that_cannot_be_written_stops_the_command_in_one_line(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    # Under a plain file: refused even to root, which ignores permission bits.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    database = migrated(tmp_path / "m.db")
    config = write_config(
        tmp_path / "prefectures.yaml",
        targets=[TARGET],
        database=database,
        evidence_dir=blocker / "evidence",
    )
    run = monitor("--config", str(config), *command)
    line = assert_one_line_error(run, 2)
    assert line == (
        f"monitor: error: {config}: settings.evidence_dir: '{blocker / 'evidence'}' cannot be "
        "written (Not a directory): create it, or name a directory this user can write"
    )
    assert not (tmp_path / "evidence").exists()
