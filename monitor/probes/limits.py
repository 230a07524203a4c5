"""How much of an answer a probe reads: a booking page is tens of kilobytes, not gigabytes.

A hostile or broken site can answer with a 100 MB page, an endless trickle or a gzip bomb
(a few kilobytes that inflate to gigabytes). Each engine reads at most
:data:`MAX_RESPONSE_BYTES` of a page or script call (after decompression) and then stops:
the probe ends as ``anomaly/unrecognized`` with the detail ``response_too_large`` (no
booking page is that big, so what it is cannot be said), and memory stays bounded. A
trickle slower than ``probe_timeout`` ends as ``anomaly/timeout`` like any silent site.
"""

from __future__ import annotations

from monitor.domain import Detail, Reason
from monitor.errors import ProbeError

#: The most of one answer a probe reads, decompressed (8 MiB; real pages are < 1 MiB).
MAX_RESPONSE_BYTES = 8 * 1024 * 1024


def too_large(url: str, limit: int = MAX_RESPONSE_BYTES) -> ProbeError:
    """The anomaly of an answer cut off at ``limit`` bytes."""
    return ProbeError(
        Reason.UNRECOGNIZED, Detail("response_too_large", {"url": url, "limit": limit})
    )
