"""Finding the browser: explicit choices win, then system paths, then Playwright's cache.

And the switches it is launched with.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from monitor.errors import BrowserNotFound
from monitor.probes import chromium
from monitor.probes.browser import (
    CHROMIUM_FLAGS,
    ENGINE_DISABLED_FEATURES,
    PLAYWRIGHT_DISABLED_FEATURES,
)
from monitor.probes.chromium import find_chromium


def make_executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_it_prefers_monitor_browser_over_the_config(tmp_path: Path) -> None:
    env_browser = make_executable(tmp_path / "env-chrome")
    config_browser = make_executable(tmp_path / "config-chrome")
    found = find_chromium(str(config_browser), env={"MONITOR_BROWSER": str(env_browser)})
    assert found == str(env_browser)


def test_it_uses_the_configured_path_when_no_env(tmp_path: Path) -> None:
    config_browser = make_executable(tmp_path / "config-chrome")
    assert find_chromium(str(config_browser), env={}) == str(config_browser)


def test_it_refuses_an_explicit_path_that_is_not_executable(tmp_path: Path) -> None:
    with pytest.raises(BrowserNotFound, match=r"\$MONITOR_BROWSER is '.*nope'.*apt-get install"):
        find_chromium(None, env={"MONITOR_BROWSER": str(tmp_path / "nope")})


def test_it_falls_back_to_playwright_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chromium, "SYSTEM_CANDIDATES", ())
    cached = make_executable(tmp_path / "chromium-1200" / "chrome-linux" / "chrome")
    assert find_chromium(None, env={"PLAYWRIGHT_BROWSERS_PATH": str(tmp_path)}) == str(cached)


def test_it_says_how_to_install_one_when_none_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chromium, "SYSTEM_CANDIDATES", ())
    with pytest.raises(BrowserNotFound) as caught:
        find_chromium(None, env={"PLAYWRIGHT_BROWSERS_PATH": str(tmp_path)})
    message = str(caught.value)
    assert "apt-get install chromium" in message
    assert "playwright install chromium" in message
    assert "\n" not in message


@pytest.mark.skipif(
    not os.path.exists("/usr/lib/chromium/chromium-headless-shell"),
    reason="Debian chromium-headless-shell not installed",
)
def test_it_prefers_debian_s_headless_shell_on_this_machine() -> None:
    assert find_chromium(None, env={}) == "/usr/lib/chromium/chromium-headless-shell"


@pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="Debian chromium not installed")
def test_it_falls_back_to_debian_chromium_without_the_shell(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    candidates = [c for c in chromium.SYSTEM_CANDIDATES if "headless-shell" not in c]
    monkeypatch.setattr(chromium, "SYSTEM_CANDIDATES", tuple(candidates))
    assert find_chromium(None, env={}) == "/usr/bin/chromium"


def test_it_switches_features_off_in_one_disable_features_switch() -> None:
    # Chromium keeps only the last --disable-features: a second one would drop the first,
    # and the engine's replaces Playwright's, so it repeats Playwright's list.
    switches = [flag for flag in CHROMIUM_FLAGS if flag.startswith("--disable-features=")]
    assert len(switches) == 1
    features = set(switches[0].removeprefix("--disable-features=").split(","))
    assert features == {*PLAYWRIGHT_DISABLED_FEATURES, *ENGINE_DISABLED_FEATURES}
    # The address bar's popup preloaded per window: 40 MiB a probe (see browser.py).
    assert {"WebUIOmniboxPopup", "WebUIOmniboxAimPopup"} <= features


@pytest.mark.skipif(shutil.which("ldd") is None, reason="no ldd on this machine")
def test_the_playwright_driver_finds_every_library_it_links() -> None:
    """Playwright's bundled Node.js links libatomic, which slim images lack: without it every
    browser probe was monitor_error/browser_crash (issue 31). scripts/system-packages.sh
    installs it for the host, CI and the image alike; this is where a missing one shows."""
    import playwright

    node = Path(playwright.__file__).parent / "driver" / "node"
    linked = subprocess.run(["ldd", str(node)], capture_output=True, text=True, check=False)
    missing = [line.strip() for line in linked.stdout.splitlines() if "not found" in line]
    assert not missing, f"{node} cannot load: {missing} (run scripts/system-packages.sh)"
