"""A folder served on 127.0.0.1 by the standard library, for ``monitor demo``'s status page."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # the demo's console is for the story and the alerts


@contextlib.contextmanager
def serve_directory(directory: Path, *, port: int = 0) -> Iterator[str]:
    """Serve ``directory`` (resolved at each request, so a switched link is followed) on
    127.0.0.1 in a daemon thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, name="status-page", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
