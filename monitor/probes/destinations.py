"""Where a probe may go: never to a loopback or private address, nor off http(s).

A booking page is public. If the site (or someone who took it over) sends the monitor to
``http://10.0.0.1/``, ``http://[::1]/``, ``http://localhost:8080/admin`` or
``file:///etc/passwd``, following would turn the monitor into a probe of its own network
(server-side request forgery) and put what it found in the evidence. So every request a
probe makes (each redirect hop, link, form post, script call the gate sees) is checked here
first, and a refused one ends the probe as ``anomaly/blocked`` with the detail
``destination_refused``: the way to the booking page is barred, and nothing was sent.

The one exception: when the target's own host is such an address (the local imitation on
127.0.0.1, a test site on a private network), its pages may lead to other internal
addresses, since the person who wrote the config chose that network.

Pure: no DNS. Host *names* are judged as written; a public name that resolves to a private
address (DNS rebinding, wildcard DNS services) is not caught here. ``localhost`` and
``*.localhost`` count as loopback; IPv4 literals in any form the resolver accepts
(``127.1``, ``0x7f.0.0.1``, ``2130706433``) are read as the address they are.
"""

from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache
from urllib.parse import urlsplit

from monitor.domain import Detail

ALLOWED_SCHEMES = frozenset({"http", "https"})
#: Longest URL kept in a detail: a hostile page chooses it.
URL_LIMIT = 300


@lru_cache(maxsize=1024)
def is_internal_host(host: str | None) -> bool:
    """Whether ``host`` is a loopback, private, link-local or otherwise non-public address.

    Pure, and asked twice for every request (its host and the target's): remembered for
    the last 1024 hosts rather than parsed again each time.
    """
    if not host:
        return False
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    address = _as_address(name)
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def _as_address(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        pass
    if name and all(part.isalnum() for part in name.split(".")):
        try:
            # The legacy forms getaddrinfo accepts: "127.1", "0x7f.1", "2130706433".
            return ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return None
    return None


def refusal(target_url: str, url: str) -> Detail | None:
    """Why ``url`` may not be requested in a probe of ``target_url``; None when it may.

    ``why`` is ``scheme`` (not http or https), ``internal`` (a loopback or private
    address while the target's own host is public) or ``malformed`` (no readable host).
    """
    shown = url if len(url) <= URL_LIMIT else url[:URL_LIMIT] + "…"
    try:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ALLOWED_SCHEMES:
            return Detail("destination_refused", {"url": shown, "why": "scheme"})
        host = parts.hostname
        target_host = urlsplit(target_url).hostname
    except ValueError:  # e.g. an unclosed "[" in the host
        return Detail("destination_refused", {"url": shown, "why": "malformed"})
    if is_internal_host(host) and not is_internal_host(target_host):
        return Detail("destination_refused", {"url": shown, "why": "internal"})
    return None
