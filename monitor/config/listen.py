"""Where the console listens: ``settings.console.listen`` read and written back
(docs/contract.md#settings). Pure: no socket is opened here."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

__all__ = ["Listen", "parse_listen"]


@dataclass(frozen=True)
class Listen:
    """An address and port to listen on; ``port`` 0 lets the system choose."""

    host: str  #: an IP address (IPv6 without brackets) or ``localhost``
    port: int

    @property
    def family_v6(self) -> bool:
        return ":" in self.host

    def url(self, port: int | None = None) -> str:
        """``http://127.0.0.1:8470/``; ``port`` gives the real one when ``self.port`` is 0."""
        shown = f"[{self.host}]" if self.family_v6 else self.host
        return f"http://{shown}:{self.port if port is None else port}/"


def parse_listen(text: str) -> Listen:
    """``"127.0.0.1:8470"``, ``"[::1]:8470"`` or ``"localhost:8470"`` → :class:`Listen`.

    Raises ValueError with a message saying what is wrong and what is expected."""
    expected = 'expected "ADDRESS:PORT", e.g. "127.0.0.1:8470" or "[::1]:8470"'
    value = text.strip()
    if value.startswith("["):
        host, bracket, rest = value[1:].partition("]")
        if not bracket or not rest.startswith(":"):
            raise ValueError(f"{text!r}: an IPv6 address needs its port after ']:'; {expected}")
        port_text = rest[1:]
        try:
            if ipaddress.ip_address(host).version != 6:
                raise ValueError
        except ValueError:
            raise ValueError(f"{text!r}: {host!r} is not an IPv6 address; {expected}") from None
    else:
        host, colon, port_text = value.rpartition(":")
        if not colon or not host:
            raise ValueError(f"{text!r}: no port; {expected}")
        if host != "localhost":
            try:
                if ipaddress.ip_address(host).version != 4:
                    raise ValueError
            except ValueError:
                raise ValueError(
                    f"{text!r}: {host!r} is neither an IPv4 address nor localhost "
                    f"(IPv6 goes in brackets); {expected}"
                ) from None
    if not port_text.isascii() or not port_text.isdigit() or int(port_text) > 65535:
        raise ValueError(
            f"{text!r}: the port {port_text!r} is not a number from 0 to 65535; {expected}"
        )
    return Listen(host, int(port_text))
