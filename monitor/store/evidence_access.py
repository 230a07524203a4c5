"""Whether the evidence directory can be written, checked before a command probes anything.

``check`` and ``run`` keep every page they see under ``settings.evidence_dir``; a directory
that cannot be created or written (a typo, a path under a file, a read-only mount, another
user's directory) is refused at start as a config error: one line naming the key and the
path, exit 2, before the database or the network is touched. A directory that becomes
unwritable later is the recorder's business (the outcome is still recorded).
"""

from __future__ import annotations

import tempfile

from monitor.config import Config
from monitor.errors import ConfigError


def check_evidence_dir(config: Config) -> None:
    """Create ``settings.evidence_dir`` if needed and write (then delete) a file in it."""
    directory = config.settings.evidence_dir
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-test-"):
            pass
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise ConfigError(
            f"{config.source}: settings.evidence_dir: {str(directory)!r} cannot be written "
            f"({why}): create it, or name a directory this user can write",
            path=str(config.source),
            key="settings.evidence_dir",
        ) from None
