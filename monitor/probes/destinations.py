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
address (DNS rebinding, wildcard DNS services) is not caught here. Names that only exist
inside a network count as internal: ``localhost``, single-label names (``db``, ``redis``:
a search domain completes them), and the reserved or conventional private suffixes
(``*.localhost``, ``*.local``, ``*.internal`` as in ``metadata.google.internal``,
``*.home.arpa``, ``*.lan``...). IPv4 literals in any form the resolver accepts (``127.1``,
``0x7f.0.0.1``, ``2130706433``) are read as the address they are, and so is an IPv4
address carried inside an IPv6 one (IPv4-mapped ``::ffff:10.0.0.1``, IPv4-compatible
``::10.0.0.1``, NAT64 ``64:ff9b::a00:1``, 6to4 ``2002:a00:1::``). A port outside
0-65535 is a ``malformed`` address.
"""

from __future__ import annotations

import ipaddress
import socket
import unicodedata
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from monitor.domain import Detail

ALLOWED_SCHEMES = frozenset({"http", "https"})
#: Suffixes of names that only resolve inside a network (RFC 6761, 6762, 8375, and the
#: names cloud metadata services and home routers use).
INTERNAL_SUFFIXES = (
    "localhost", "local", "internal", "home.arpa", "lan", "localdomain", "intranet",
    "corp", "home", "private",
)  # fmt: skip
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: never public
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
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
    # As a browser (UTS #46) or httpx (IDNA) reads it: "ｌｏｃａｌｈｏｓｔ", "１２７.０.０.１" and
    # "x.internal。" are localhost, 127.0.0.1 and x.internal.
    name = unicodedata.normalize("NFKC", host.strip("[]")).replace("\u3002", ".")
    name = name.rstrip(".").lower()
    address = _as_address(name)
    if address is None:
        return _is_internal_name(name)
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL:
            return True
        address = _embedded_ipv4(address) or address
    return not address.is_global or address.is_multicast


def _is_internal_name(name: str) -> bool:
    """A host name (not an address) that can only mean a machine of the local network."""
    if "." not in name:
        return True  # "db", "redis", "localhost": completed by the resolver's search domain
    return any(name == suffix or name.endswith("." + suffix) for suffix in INTERNAL_SUFFIXES)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one reaches through (mapped, compatible, NAT64, 6to4)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or address in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


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
    address or name while the target's own host is public) or ``malformed`` (no readable
    host, or a port outside 0-65535).
    """
    shown = _shown(url)
    try:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ALLOWED_SCHEMES:
            return Detail("destination_refused", {"url": shown, "why": "scheme"})
        host = parts.hostname
        _port = parts.port  # raises on a port outside 0-65535 or not a number
        target_host = urlsplit(target_url).hostname
    except ValueError:  # e.g. an unclosed "[" in the host, port 70000
        return Detail("destination_refused", {"url": shown, "why": "malformed"})
    if not host:
        return Detail("destination_refused", {"url": shown, "why": "malformed"})
    if is_internal_host(host) and not is_internal_host(target_host):
        return Detail("destination_refused", {"url": shown, "why": "internal"})
    return None


def redirect_refusal(url: str, location: str, target: str | None = None) -> Detail | None:
    """Why the redirect of ``url`` to its ``Location`` header may not be followed; None
    when it may. ``location`` is what the site sent, resolved against ``url`` as a browser
    would; judged for ``target`` (default ``url``: it was allowed, so it stands for it)."""
    try:
        destination = urljoin(url, location.strip())
    except ValueError:  # e.g. "http://[::1/": not an address at all
        return malformed(location)
    return refusal(target or url, destination)


def malformed(url: str) -> Detail:
    """The refusal of an address a site gave that is no address at all."""
    return Detail("destination_refused", {"url": _shown(url), "why": "malformed"})


def _shown(url: str) -> str:
    """``url`` as a detail quotes it: a hostile page chooses its length."""
    return url if len(url) <= URL_LIMIT else url[:URL_LIMIT] + "…"
