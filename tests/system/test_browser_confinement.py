"""Chromium confined: its sandbox wherever the platform allows it, none of our secrets.

The decision is a pure table (``sandbox_choice``); the rest runs the real driver and the
real Chromium and reads what the kernel says about their processes: ``/proc/<pid>/environ``
for the environment they were started with, ``/proc/<pid>/status`` (``Seccomp:``) and the
command line for the sandbox. The tests run as root, where Chromium refuses its sandbox;
a non-root launch runs in a subprocess under ``setpriv`` as ``nobody``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import playwright
import pytest
from browsers import chromium_or_none
from sitefixture import Reply, Site, serve

from monitor.probes.browser import BrowserEngine
from monitor.probes.chromium import (
    SandboxChoice,
    browser_environment,
    driver_environment,
    sandbox_choice,
)

PLANTED = "SMTP_PASSWORD"
PLANTED_VALUE = "planted-secret-7f3a"


CHROMIUM = chromium_or_none()
T = TypeVar("T")


def real_browser(test: T) -> T:
    """Marks a test that drives the real Chromium (skipped, saying why, where there is none)."""
    for mark in (
        pytest.mark.browser,
        pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (monitor.probes.chromium)"),
        pytest.mark.timeout(120),
    ):
        test = mark(test)
    return test


# --- the decision (pure) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("euid", "max_ns", "clone", "helper", "on", "why"),
    [
        (0, 96367, None, False, False, "root"),
        (0, 96367, 1, True, False, "root"),
        (1000, 96367, None, False, True, "user namespaces are available"),
        (1000, 96367, 1, False, True, "user namespaces are available"),
        (1000, None, None, False, True, "user namespaces are available"),
        (1000, 0, None, False, False, "user.max_user_namespaces is 0"),
        (1000, 96367, 0, False, False, "kernel.unprivileged_userns_clone is 0"),
        (1000, 0, None, True, True, "setuid helper"),
        (1000, 96367, 0, True, True, "setuid helper"),
    ],
)
def test_the_sandbox_is_asked_for_unless_root_or_no_namespaces_nor_helper(
    euid: int, max_ns: int | None, clone: int | None, helper: bool, on: bool, why: str
) -> None:
    choice = sandbox_choice(
        euid=euid, max_user_namespaces=max_ns, unprivileged_userns_clone=clone, setuid_helper=helper
    )
    assert choice.on is on
    assert why in choice.why


def test_the_browser_gets_what_a_browser_needs_and_no_secret() -> None:
    env = {
        "PATH": "/usr/bin",
        "HOME": "/home/monitor",
        "LANG": "fr_FR.UTF-8",
        "LC_TIME": "fr_FR.UTF-8",
        "TZ": "Europe/Paris",
        "XDG_RUNTIME_DIR": "/run/user/1000",
        "FONTCONFIG_PATH": "/etc/fonts",
        "DISPLAY": ":0",
        "SMTP_PASSWORD": "s",
        "SIGNAL_ACCOUNT": "+33600000000",
        "MONITOR_CONSOLE_TOKEN": "t",
        "MONITOR_DATABASE_URL": "postgresql://u:p@db/monitor",
        "PGPASSWORD": "p",
        "HTTPS_PROXY": "http://user:pass@proxy:3128",
        "MY_WEBHOOK_TOKEN": "w",
        "PLAYWRIGHT_BROWSERS_PATH": "/opt/pw",
        "NODE_OPTIONS": "--require /tmp/evil.js",
    }
    browser = browser_environment(env)
    assert set(browser) == {
        "PATH",
        "HOME",
        "LANG",
        "LC_TIME",
        "TZ",
        "XDG_RUNTIME_DIR",
        "FONTCONFIG_PATH",
        "DISPLAY",
    }
    assert set(driver_environment(env)) == {*browser, "PLAYWRIGHT_BROWSERS_PATH"}


# --- the real processes ----------------------------------------------------------------------


def _parents() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def descendants(root: int) -> dict[int, str]:
    """The live processes under ``root``, with their command lines."""
    parents = _parents()
    found: dict[int, str] = {}
    for pid in parents:
        ancestor = parents[pid]
        while ancestor > 1 and ancestor != root:
            ancestor = parents.get(ancestor, 0)
        if ancestor == root:
            with contextlib.suppress(OSError):
                cmdline = (Path("/proc") / str(pid) / "cmdline").read_bytes()
                found[pid] = cmdline.replace(b"\0", b" ").decode(errors="replace")
    return found


def environ_of(pid: int) -> dict[str, str]:
    raw = (Path("/proc") / str(pid) / "environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {name.decode(errors="replace"): value.decode(errors="replace") for name, value in pairs}


def seccomp_of(pid: int) -> int:
    for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
        if line.startswith("Seccomp:"):
            return int(line.split()[1])
    raise AssertionError(f"no Seccomp line for {pid}")


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with serve({"/p": Reply("<p>une page</p><script>1</script>")}) as running:
        yield running


@real_browser
@pytest.mark.asyncio
async def test_the_driver_and_chromium_are_started_without_the_monitors_secrets(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert CHROMIUM is not None
    monkeypatch.setenv(PLANTED, PLANTED_VALUE)
    monkeypatch.setenv("MONITOR_CONSOLE_TOKEN", PLANTED_VALUE)
    # Control: a child started the ordinary way inherits the planted secret.
    control = await asyncio.create_subprocess_exec("sleep", "5")
    try:
        assert environ_of(control.pid).get(PLANTED) == PLANTED_VALUE
    finally:
        control.kill()
        await control.wait()
    engine = BrowserEngine(executable_path=CHROMIUM, user_agent="t", timeout=20.0)
    try:
        async with engine.session() as session:
            await session.open(site.url("/p"))
            processes = descendants(os.getpid())
            driver = [pid for pid, line in processes.items() if "run-driver" in line]
            chromium = [pid for pid, line in processes.items() if "chrom" in line.split(" ")[0]]
            assert driver and chromium, processes
            for pid in [*driver, *chromium]:
                raw = (Path("/proc") / str(pid) / "environ").read_bytes()
                assert PLANTED_VALUE.encode() not in raw, processes[pid]
                assert f"{PLANTED}=".encode() not in raw, processes[pid]
            # The driver and the main Chromium (helpers write their command line over their
            # environment) still have what they need.
            main = [pid for pid in chromium if "--type=" not in processes[pid]]
            for pid in [*driver, *main]:
                assert environ_of(pid).get("PATH") == os.environ["PATH"], processes[pid]
    finally:
        await engine.aclose()


@real_browser
@pytest.mark.asyncio
async def test_as_root_chromium_runs_without_its_sandbox_and_says_why_once(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    if os.geteuid() != 0:
        pytest.skip("this test is about running as root")
    assert CHROMIUM is not None
    caplog.set_level(logging.WARNING, logger="monitor.probes.browser")
    from monitor.probes import browser as browser_module

    browser_module._warned.clear()
    for _ in range(2):
        engine = BrowserEngine(executable_path=CHROMIUM, user_agent="t", timeout=20.0)
        try:
            async with engine.session() as session:
                await session.open(site.url("/p"))
        finally:
            await engine.aclose()
        assert engine.sandbox is not None and not engine.sandbox.on
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "Chromium runs without its sandbox: the monitor runs as root, "
        "and Chromium refuses its sandbox to root"
    ]


@real_browser
@pytest.mark.asyncio
async def test_a_sandbox_chromium_cannot_start_with_is_given_up_with_one_warning(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """As root, a sandbox asked for anyway fails to launch, as in a container without user
    namespaces: the engine launches again without it rather than failing every probe."""
    if os.geteuid() != 0:
        pytest.skip("a sandboxed launch fails for real only as root here")
    assert CHROMIUM is not None
    caplog.set_level(logging.WARNING, logger="monitor.probes.browser")
    engine = BrowserEngine(
        executable_path=CHROMIUM,
        user_agent="t",
        timeout=20.0,
        sandbox=SandboxChoice(True, "asked for by the test"),
    )
    try:
        async with engine.session() as session:
            page = await session.open(site.url("/p"))
    finally:
        await engine.aclose()
    assert "une page" in page.html
    assert engine.sandbox is not None and not engine.sandbox.on
    assert engine.launch_count == 1
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.startswith("Chromium runs without its sandbox: Chromium could not start")


#: Run as ``nobody``: launch through the engine, report the sandbox as the kernel sees it.
UNPRIVILEGED_PROBE = """
import asyncio, json, os, sys
sys.path[:0] = [sys.argv[3], os.path.dirname(sys.argv[3])]  # tests/system, then tests/
from test_browser_confinement import descendants, environ_of, seccomp_of
from monitor.probes.browser import BrowserEngine

async def main():
    engine = BrowserEngine(executable_path=sys.argv[1], user_agent="t", timeout=30.0)
    try:
        async with engine.session() as session:
            page = await session.open(sys.argv[2])
            processes = descendants(os.getpid())
            chromium = {p: l for p, l in processes.items() if "chrom" in l.split(" ")[0]}
            renderers = [p for p, l in chromium.items() if "--type=renderer" in l]
            seccomp = [seccomp_of(p) for p in renderers]
            leaked = [
                l for p, l in processes.items()
                if sys.argv[4].encode() in open(f"/proc/{p}/environ", "rb").read()
            ]
    finally:
        await engine.aclose()
    print(json.dumps({
        "uid": os.geteuid(),
        "read": "une page" in page.html,
        "sandbox": engine.sandbox.on,
        "why": engine.sandbox.why,
        "no_sandbox_flag": any("--no-sandbox" in l for l in chromium.values()),
        "renderer_seccomp": seccomp,
        "leaked": leaked,
    }))

asyncio.run(main())
"""


def unprivileged_command() -> list[str] | None:
    """How to run a Python of this venv as ``nobody``, or None where it cannot be done."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        return None
    # The venv's interpreter may live under /root; the system's same version reads the
    # venv's packages just as well.
    python = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    if not python.is_file():
        return None
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", str(python)]


@real_browser
def test_as_an_unprivileged_user_chromium_runs_in_its_sandbox_without_our_secrets(
    site: Site, tmp_path_factory: pytest.TempPathFactory
) -> None:
    command = unprivileged_command()
    if command is None:
        pytest.skip("needs root, setpriv and a system Python of this version to become nobody")
    assert CHROMIUM is not None
    home = Path(tmp_path_factory.getbasetemp().parent.parent) / f"nobody-home-{os.getpid()}"
    home.mkdir(exist_ok=True)
    home.chmod(0o777)
    packages = Path(playwright.__file__).parent.parent
    worktree = Path(__file__).resolve().parents[2]
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "PYTHONPATH": f"{worktree}:{packages}",
        PLANTED: PLANTED_VALUE,
    }
    try:
        done = subprocess.run(
            [
                *command,
                "-c",
                UNPRIVILEGED_PROBE,
                CHROMIUM,
                site.url("/p"),
                str(worktree / "tests" / "system"),
                PLANTED_VALUE,
            ],
            env=env,
            cwd=home,
            capture_output=True,
            text=True,
            timeout=90,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["uid"] == 65534
    assert report["read"]
    assert report["sandbox"] is True, report["why"]
    assert report["no_sandbox_flag"] is False
    # Every renderer runs under Chromium's seccomp-bpf filter (2: filter mode).
    assert report["renderer_seccomp"] and set(report["renderer_seccomp"]) == {2}
    # The planted secret is in this monitor's environment, in none of its browser's.
    assert report["leaked"] == []
