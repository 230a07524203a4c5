"""The Playwright driver, started with the environment we give it rather than ours.

``async_playwright().start()`` spawns the driver (Node.js) with a copy of ``os.environ``,
and every Chromium it launches inherits the driver's: the monitor's secrets (SMTP_PASSWORD,
SIGNAL_*, MONITOR_CONSOLE_TOKEN, database passwords, any variable a config interpolates)
would sit in the environment of the processes that run pages nobody here wrote.

Scrubbing ``os.environ`` around the start would do, but for every other thread and task
too, at a moment nobody controls. Instead, :func:`start_playwright` starts the driver the
way playwright-python does (``PlaywrightClient`` and its ``PipeTransport``), with one
change: the transport spawns Node.js with an explicit ``env``. The client is built as
upstream builds it, then handed our transport before its start task runs. Both are private
classes of playwright-python (pinned in constraints.txt):
tests/system/test_browser_confinement.py reads the driver's ``/proc/<pid>/environ`` to catch an
upgrade that changes them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping

from playwright._impl._driver import (
    compute_driver_executable,
    get_driver_env,
    node_launch_error,
)
from playwright._impl.out_of_process import PlaywrightClient
from playwright._impl.transport import PipeTransport, _get_stderr_fileno
from playwright.async_api import Playwright

__all__ = ["start_playwright"]


class _EnvPipeTransport(PipeTransport):
    """playwright-python's pipe to the driver, spawning it with ``env`` only."""

    def __init__(self, loop: asyncio.AbstractEventLoop, env: Mapping[str, str]) -> None:
        super().__init__(loop)
        self._env = dict(env)

    async def connect(self) -> None:
        # PipeTransport.connect (Linux branch) with env=self._env instead of os.environ's.
        self._stopped_future = asyncio.Future()
        try:
            executable, entrypoint = compute_driver_executable()
            try:
                self._proc = await asyncio.create_subprocess_exec(
                    executable,
                    entrypoint,
                    "run-driver",
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=_get_stderr_fileno(),
                    limit=32768,
                    env=self._env,
                )
            except OSError as error:
                raise node_launch_error(executable, error) from error
        except Exception as exc:
            self.on_error_future.set_exception(exc)
            raise
        self._output = self._proc.stdin


def _driver_variables() -> dict[str, str]:
    """What playwright-python adds to the driver's environment (its language and version)."""
    return {name: value for name, value in get_driver_env().items() if name not in os.environ}


async def start_playwright(env: Mapping[str, str]) -> Playwright:
    """Start Playwright as ``async_playwright().start()`` does, the driver given ``env``.

    ``env`` is completed with the variables playwright-python itself sets for its driver.
    """
    loop = asyncio.get_running_loop()
    client = PlaywrightClient()
    # The client has scheduled its start (connect, then initialize) but not run it yet:
    # give it our transport, wired as its own was.
    transport = _EnvPipeTransport(loop, {**env, **_driver_variables()})
    transport.on_message = client._transport.on_message
    client._connection.onmessage = transport.send
    client._transport = transport
    impl = await client._playwright
    playwright = Playwright(impl)  # what async_playwright() wraps the impl in
    stopped = False

    async def stop() -> None:
        nonlocal stopped
        if not stopped:
            stopped = True
            await client.stop()

    playwright.stop = stop  # type: ignore[method-assign]
    return playwright
