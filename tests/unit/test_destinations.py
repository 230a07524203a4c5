"""Hostile pages, the rule: the destinations a booking page may send the monitor to.

``refusal`` is a pure function, tested here as a table; the engines that apply it against a
real local site are tested in tests/system/test_hostile_pages.py.
"""

from __future__ import annotations

import pytest

from monitor.details import record_line, render
from monitor.domain import Detail
from monitor.probes.destinations import is_internal_host, refusal

PUBLIC = "https://www.hauts-de-seine.gouv.fr/booking/create/12083"
LOCAL = "http://127.0.0.1:8123/booking/create/1"


@pytest.mark.parametrize(
    ("target", "destination", "why"),
    [
        (PUBLIC, "https://www.hauts-de-seine.gouv.fr/booking/create/12083/1", None),
        (PUBLIC, "https://rdv.anct.gouv.fr/prendre_rdv", None),
        (PUBLIC, "http://93.184.216.34/", None),
        (PUBLIC, "http://[2606:4700::1111]/", None),
        (PUBLIC, "http://10.0.0.1/", "internal"),
        (PUBLIC, "http://10.255.255.1:8080/admin", "internal"),
        (PUBLIC, "http://172.16.5.4/", "internal"),
        (PUBLIC, "http://192.168.1.1/", "internal"),
        (PUBLIC, "http://127.0.0.1:631/", "internal"),
        (PUBLIC, "http://127.0.0.2/", "internal"),
        (PUBLIC, "http://169.254.169.254/latest/meta-data/", "internal"),
        (PUBLIC, "http://100.64.0.1/", "internal"),
        (PUBLIC, "http://0.0.0.0/", "internal"),
        (PUBLIC, "http://[::1]/", "internal"),
        (PUBLIC, "http://[fd00::1]/", "internal"),
        (PUBLIC, "http://[fe80::1%25eth0]/", "internal"),
        (PUBLIC, "http://[::ffff:10.0.0.1]/", "internal"),
        (PUBLIC, "http://localhost:5432/", "internal"),
        (PUBLIC, "http://LOCALHOST./", "internal"),
        (PUBLIC, "http://admin.localhost/", "internal"),
        (PUBLIC, "http://2130706433/", "internal"),  # 127.0.0.1 as one number
        (PUBLIC, "http://127.1/", "internal"),
        (PUBLIC, "http://0x7f.0.0.1/", "internal"),
        (PUBLIC, "http://224.0.0.1/", "internal"),
        (PUBLIC, "file:///etc/passwd", "scheme"),
        (PUBLIC, "ftp://ftp.example.org/", "scheme"),
        (PUBLIC, "javascript:alert(1)", "scheme"),
        (PUBLIC, "data:text/html,<h1>x</h1>", "scheme"),
        (PUBLIC, "gopher://127.0.0.1:6379/_FLUSHALL", "scheme"),
        (PUBLIC, "http://[::1/", "malformed"),
        # The imitation: the target itself is internal, so internal destinations are fine...
        (LOCAL, "http://127.0.0.1:8123/booking/create/1/1", None),
        (LOCAL, "http://localhost:9000/", None),
        (LOCAL, "http://10.0.0.1/", None),
        ("http://[::1]:8000/", "http://127.0.0.1:8000/", None),
        ("http://192.168.1.10/rdv", "http://192.168.1.10/rdv/2", None),
        # ... and public ones too; but never another scheme.
        (LOCAL, "https://www.hauts-de-seine.gouv.fr/", None),
        (LOCAL, "file:///etc/passwd", "scheme"),
    ],
)
def test_refusal_allows_public_http_and_refuses_internal_or_other_schemes(
    target: str, destination: str, why: str | None
) -> None:
    refused = refusal(target, destination)
    if why is None:
        assert refused is None
    else:
        assert refused is not None
        assert refused.code == "destination_refused"
        assert refused.args == {"url": destination, "why": why}


def test_a_hostile_url_is_kept_short_in_the_detail() -> None:
    refused = refusal(PUBLIC, "file:///" + "a" * 5000)
    assert refused is not None
    assert len(str(refused.args["url"])) < 400


@pytest.mark.parametrize(
    ("host", "internal"),
    [(None, False), ("", False), ("www.service-public.fr", False), ("prefecture.test", False)],
)
def test_names_other_than_localhost_are_judged_public(host: str | None, internal: bool) -> None:
    assert is_internal_host(host) is internal


@pytest.mark.parametrize(
    ("destination", "why"),
    [
        # Names that only exist inside a network (issue 25).
        ("http://metadata.google.internal/computeMetadata/v1/", "internal"),
        ("http://METADATA.GOOGLE.INTERNAL./", "internal"),
        ("http://vault.internal:8200/", "internal"),
        ("http://printer.local/", "internal"),
        ("http://api.dev.localhost/", "internal"),
        ("http://router.home.arpa/", "internal"),
        ("http://nas.lan/", "internal"),
        ("http://db/", "internal"),
        ("http://redis:6379/", "internal"),
        ("http://db./", "internal"),
        # Written with the full stops and digits IDNA and browsers map to ASCII ones.
        ("http://metadata.google.internal\u3002/", "internal"),
        ("http://printer\uff0elocal./", "internal"),
        ("http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/", "internal"),
        ("http://\u2460\u2461\u2466.0.0.1/", "internal"),
        # IPv4 carried inside IPv6: NAT64, 6to4, mapped and compatible forms.
        ("http://[64:ff9b::a00:1]/", "internal"),  # NAT64 of 10.0.0.1
        ("http://[64:ff9b::7f00:1]/", "internal"),  # NAT64 of 127.0.0.1
        ("http://[64:ff9b::a9fe:a9fe]/", "internal"),  # NAT64 of 169.254.169.254
        ("http://[64:ff9b:1::1]/", "internal"),  # the local-use NAT64 prefix
        ("http://[2002:a00:1::1]/", "internal"),  # 6to4 of 10.0.0.1
        ("http://[2002:c0a8:101::]/", "internal"),  # 6to4 of 192.168.1.1
        ("http://[::ffff:127.0.0.1]/", "internal"),
        ("http://[::ffff:a9fe:a9fe]/", "internal"),
        ("http://[::10.0.0.1]/", "internal"),
        # ... while the same forms of public addresses, and public names, stay allowed.
        ("http://[64:ff9b::808:808]/", None),
        ("http://[2002:808:808::1]/", None),
        ("http://[::ffff:8.8.8.8]/", None),
        ("https://rdv.local-prefecture.gouv.fr/", None),
        ("https://internal.gouv.fr/", None),
        ("https://www.lan.fr/", None),
        # A port that is none.
        ("http://www.example.org:70000/", "malformed"),
        ("http://www.example.org:http/", "malformed"),
    ],
)
def test_internal_names_and_ipv4_inside_ipv6_are_refused_from_a_public_target(
    destination: str, why: str | None
) -> None:
    refused = refusal(PUBLIC, destination)
    assert (None if refused is None else refused.args["why"]) == why
    if why == "internal":
        assert refusal(LOCAL, destination) is None  # an internal target may go there


@pytest.mark.parametrize("why", ["scheme", "internal", "malformed"])
def test_the_refusal_has_words_in_both_languages(why: str) -> None:
    detail = Detail("destination_refused", {"url": "http://10.0.0.1/", "why": why})
    english, french = record_line(detail), render(detail, "fr")
    assert "http://10.0.0.1/" in english and "http://10.0.0.1/" in french
    assert "refuses to request" in english and "refuse de demander" in french
