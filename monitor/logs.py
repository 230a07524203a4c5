"""Logging set-up: text or JSON lines ($MONITOR_LOG_FORMAT), verbosity from -v/-q.

Every line is scrubbed before it is written: the secrets the config gave (:func:`hide`,
called once the config is loaded) are masked, and control characters a page or a service
sent (terminal escapes, C1, bidirectional overrides) are replaced (``monitor.printable``),
in the text format (which a terminal shows as it is) and in JSON (whose escaping leaves
C1 and bidirectional characters as they are). :func:`scrub` does the same for the one-line
errors the command line prints.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from monitor.printable import printable

#: Masks the config's secrets in a text; the identity until :func:`hide` is called.
_masker: Callable[[str], str] = str


def hide(masker: Callable[[str], str]) -> None:
    """Mask secrets with ``masker`` in every log line and error from now on (replacing the
    previous one: a reloaded config brings its own secrets)."""
    global _masker
    _masker = masker


def scrub(text: str) -> str:
    """``text`` without the config's secrets nor control characters (line feeds kept)."""
    return printable(_masker(text))


class TextFormatter(logging.Formatter):
    """``HH:MM:SS LEVEL logger: message``, scrubbed."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for journald/Loki/ELK."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        for key in ("target", "status", "reason", "event", "channel"):
            if hasattr(record, key):
                value = getattr(record, key)
                entry[key] = scrub(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure(verbosity: int = 0, log_format: str | None = None) -> None:
    """Route the ``monitor`` loggers to stderr. verbosity: -1 quiet, 0 INFO, 1+ DEBUG."""
    log_format = (log_format or os.environ.get("MONITOR_LOG_FORMAT") or "text").lower()
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter())
    level = logging.WARNING if verbosity < 0 else logging.DEBUG if verbosity > 0 else logging.INFO
    root = logging.getLogger("monitor")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    # Third-party libraries stay quiet unless asked for with -vv.
    for noisy in ("httpx", "httpcore", "apscheduler", "asyncio", "apprise", "alembic"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbosity > 1 else logging.WARNING)
