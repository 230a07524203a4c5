"""What a network error code in Playwright's text becomes: the outcome's reason."""

from __future__ import annotations

import pytest

from monitor.domain import Detail, Reason
from monitor.probes._playwright_errors import net_error

DOING = Detail("doing.load", {"url": "https://rdv.example.gouv.fr/booking"})


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("net::ERR_CONNECTION_REFUSED at https://rdv.example.gouv.fr/", Reason.CONNECTION),
        ("net::ERR_TIMED_OUT at https://rdv.example.gouv.fr/", Reason.TIMEOUT),
        ("net::ERR_TOO_MANY_REDIRECTS at https://rdv.example.gouv.fr/", Reason.HTTP_ERROR),
        # a redirect Chromium will not follow (javascript:, file:, no address): nothing left
        ("net::ERR_UNSAFE_REDIRECT at https://rdv.example.gouv.fr/", Reason.BLOCKED),
        ("net::ERR_INVALID_REDIRECT at https://rdv.example.gouv.fr/", Reason.BLOCKED),
        ("connect ECONNREFUSED 127.0.0.1:9", Reason.CONNECTION),
    ],
)
def test_a_network_code_becomes_its_reason_and_is_kept_in_the_detail(
    text: str, reason: Reason
) -> None:
    error = net_error(text, DOING)
    assert error is not None
    assert error.reason == reason
    assert error.detail.code == "network_code"
    assert str(error.detail.args["code"]) in text


def test_a_text_without_a_network_code_is_left_to_the_caller() -> None:
    assert net_error("Element is not attached to the DOM", DOING) is None
