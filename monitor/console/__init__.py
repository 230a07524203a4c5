"""The operator console (docs/contract.md#settings, ``console``): a small web application,
served by ``monitor run`` in its own event loop, where a person opens assisted sessions and
answers the captcha the monitor's browser shows.

    app.py       the Starlette application: pages, forms, the guard (token, CSRF, headers)
    access.py    the token's cookie, CSRF tokens, the cross-origin rule, operator names (pure)
    wording.py   the pages' words and values (pure)
    server.py    uvicorn inside the running loop, without signal handlers of its own

Imported only when ``settings.console`` is set: starlette and uvicorn stay out of every
other command.
"""

from monitor.console.app import build_console
from monitor.console.server import ConsoleServer, ConsoleUnavailable

__all__ = ["ConsoleServer", "ConsoleUnavailable", "build_console"]
