"""Finding a Chromium executable for the browser engine, and how it is confined.

Order (first hit wins): ``$MONITOR_BROWSER``, ``settings.browser.executable_path``, the usual
system paths, then a browser installed by ``playwright install chromium`` on a machine with
the internet.

Of the system's, Debian's ``chromium-headless-shell`` comes first: the same Chromium build
without the browser's windows and their user interface, which is what Playwright itself
runs for headless pages. With four probe pages open it holds about 140 MiB less than
``chromium`` (BENCHMARKS.md §4); ``chromium`` is the fall-back where it is not installed.

Chromium renders pages nobody here wrote, so it runs with its own sandbox wherever the
platform allows it (:func:`sandbox_choice`), and it and the Playwright driver get only the
environment a browser needs (:func:`browser_environment`), none of the monitor's secrets.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from monitor.errors import BrowserNotFound

SYSTEM_CANDIDATES = (
    # The binary itself: /usr/bin's wrapper script runs it as a child, not by exec, so a
    # killed wrapper would leave it running.
    "/usr/lib/chromium/chromium-headless-shell",
    "/usr/bin/chromium-headless-shell",
    "chromium-headless-shell",
    "/usr/bin/chromium",
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
)

INSTALL_HINT = (
    "install Chromium (Debian/Ubuntu: `apt-get install chromium-headless-shell` or "
    "`apt-get install chromium`), or set $MONITOR_BROWSER / "
    "settings.browser.executable_path to a Chromium executable, or run "
    "`playwright install chromium` on a machine with internet access"
)


def _playwright_browsers(env: Mapping[str, str]) -> list[Path]:
    """Chromium builds that ``playwright install`` left in its cache, newest first."""
    root = Path(env.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
    found: list[Path] = []
    for pattern in ("chromium-*/chrome-linux*/chrome", "chromium_headless_shell-*/*/chrome*"):
        found.extend(p for p in root.glob(pattern) if p.is_file())
    return sorted(found, reverse=True)


def _executable(candidate: str) -> str | None:
    if os.sep in candidate:
        path = Path(candidate)
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    return shutil.which(candidate)


def find_chromium(configured: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """Return the path of the Chromium to drive, or raise BrowserNotFound saying how to get one.

    An explicit choice ($MONITOR_BROWSER or the config) that does not exist is an error rather
    than a silent fall-back: the user asked for that browser.
    """
    env = os.environ if env is None else env
    for source, explicit in (
        ("$MONITOR_BROWSER", env.get("MONITOR_BROWSER")),
        (
            "settings.browser.executable_path",
            configured,
        ),
    ):
        if explicit:
            path = _executable(explicit)
            if path is None:
                raise BrowserNotFound(
                    f"{source} is {explicit!r}, which is not an executable file; {INSTALL_HINT}"
                )
            return path
    for candidate in SYSTEM_CANDIDATES:
        path = _executable(candidate)
        if path:
            return path
    bundled = _playwright_browsers(env)
    if bundled:
        return str(bundled[0])
    raise BrowserNotFound(f"no Chromium found; {INSTALL_HINT}")


# --- the environment it gets -----------------------------------------------------------------

#: What a browser needs of the monitor's environment: where programs, home, temporary files,
#: fonts and the display are, the language and the time zone. Nothing else is passed on:
#: SMTP_PASSWORD, SIGNAL_*, MONITOR_CONSOLE_TOKEN, database URLs, proxies (the http engine
#: uses none either), any variable a config interpolates.
BROWSER_ENV_NAMES = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "DISPLAY",
        "WAYLAND_DISPLAY",
        "XAUTHORITY",
    }
)
BROWSER_ENV_PREFIXES = ("LC_", "XDG_", "FONTCONFIG_")
#: The Playwright driver (Node.js) also reads its own settings and extra CA certificates.
DRIVER_ENV_NAMES = frozenset({"NODE_EXTRA_CA_CERTS"})
DRIVER_ENV_PREFIXES = ("PLAYWRIGHT_",)


def browser_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The variables of ``env`` that Chromium is given (see :data:`BROWSER_ENV_NAMES`)."""
    return {
        name: value
        for name, value in env.items()
        if name in BROWSER_ENV_NAMES or name.startswith(BROWSER_ENV_PREFIXES)
    }


def driver_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The variables of ``env`` that the Playwright driver is given: the browser's, and its own."""
    own = {
        name: value
        for name, value in env.items()
        if name in DRIVER_ENV_NAMES or name.startswith(DRIVER_ENV_PREFIXES)
    }
    return {**browser_environment(env), **own}


# --- its sandbox -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SandboxChoice:
    """Whether Chromium is launched with its sandbox, and why (a clause for the log)."""

    on: bool
    why: str


def sandbox_choice(
    *,
    euid: int,
    max_user_namespaces: int | None,
    unprivileged_userns_clone: int | None,
    setuid_helper: bool,
) -> SandboxChoice:
    """Whether to ask for Chromium's sandbox, from what this machine allows (pure).

    Chromium's Linux sandbox needs user namespaces (``max_user_namespaces`` > 0 and, on
    kernels that have the switch, ``unprivileged_userns_clone`` = 1; None: no such file), or
    its setuid helper ``chrome-sandbox``; it refuses to run as root. Where a container or a
    security module forbids namespaces anyway (Docker's default seccomp profile, AppArmor's
    ``apparmor_restrict_unprivileged_userns``), only a launch can tell: the engine tries it,
    and falls back to no sandbox when Chromium cannot start with it.
    """
    if euid == 0:
        return SandboxChoice(
            False, "the monitor runs as root, and Chromium refuses its sandbox to root"
        )
    if max_user_namespaces == 0 or unprivileged_userns_clone == 0:
        if setuid_helper:
            return SandboxChoice(True, "no user namespaces here; Chromium's setuid helper is used")
        switch = (
            "user.max_user_namespaces is 0"
            if max_user_namespaces == 0
            else "kernel.unprivileged_userns_clone is 0"
        )
        return SandboxChoice(False, f"this kernel allows no user namespaces ({switch})")
    return SandboxChoice(True, "user namespaces are available")


def _proc_number(path: str) -> int | None:
    try:
        return int(Path(path).read_text().strip())
    except (OSError, ValueError):
        return None


def _has_setuid_helper(executable: str) -> bool:
    """Chromium's setuid sandbox helper beside ``executable``, owned by root and setuid."""
    helper = Path(executable).resolve().parent / "chrome-sandbox"
    try:
        info = helper.stat()
    except OSError:
        return False
    return info.st_uid == 0 and bool(info.st_mode & 0o4000)


def platform_sandbox_choice(executable: str) -> SandboxChoice:
    """:func:`sandbox_choice` for this process on this machine."""
    return sandbox_choice(
        euid=os.geteuid(),
        max_user_namespaces=_proc_number("/proc/sys/user/max_user_namespaces"),
        unprivileged_userns_clone=_proc_number("/proc/sys/kernel/unprivileged_userns_clone"),
        setuid_helper=_has_setuid_helper(executable),
    )
