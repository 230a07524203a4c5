"""The hash chain: which fields it covers, how it links, that it can be recomputed by hand.

The evidence files that outcomes point to are tested in tests/system/test_evidence.py.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from monitor.domain import Engine, Outcome, Reason, Status
from monitor.store.evidence import (
    GENESIS,
    canonical_fields,
    chain_hash,
)

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def an_outcome(**changes: object) -> Outcome:
    outcome = Outcome(
        target="92/remise-titre",
        prefecture="92",
        started_at=T0,
        finished_at=T0 + timedelta(seconds=3),
        engine=Engine.HTTP,
        status=Status.UNAVAILABLE,
        reason=Reason.NO_SLOT,
        detail="Il n'existe plus de plage horaire libre",
        url="https://www.hauts-de-seine.gouv.fr/booking/create/12083",
        final_url="https://www.hauts-de-seine.gouv.fr/booking/create/12083/1",
        http_status=200,
    )
    return replace(outcome, **changes)  # type: ignore[arg-type]


def test_it_documents_a_chain_that_can_be_recomputed_by_hand() -> None:
    outcome = an_outcome(detail="Plus de créneau", sha256="ab" * 32)

    expected_json = (
        '{"detail":"Plus de créneau","earliest_slot":null,"engine":"http",'
        '"final_url":"https://www.hauts-de-seine.gouv.fr/booking/create/12083/1",'
        '"finished_at":"2025-03-01T08:00:03.000000+00:00","http_status":200,'
        '"prefecture":"92","reason":"no_slot","sha256":"' + "ab" * 32 + '",'
        '"slot_count":null,"started_at":"2025-03-01T08:00:00.000000+00:00",'
        '"status":"unavailable","target":"92/remise-titre",'
        '"url":"https://www.hauts-de-seine.gouv.fr/booking/create/12083"}'
    )
    assert canonical_fields(outcome) == expected_json.encode()
    first = hashlib.sha256(("0" * 64 + expected_json).encode()).hexdigest()
    assert chain_hash(None, outcome) == first == chain_hash(GENESIS, outcome)
    second = hashlib.sha256((first + expected_json).encode()).hexdigest()
    assert chain_hash(first, outcome) == second


CHANGES = {
    "target": "92/autre",
    "prefecture": "75",
    "started_at": T0 + timedelta(microseconds=1),
    "finished_at": T0 + timedelta(seconds=4),
    "engine": Engine.BROWSER,
    "status": Status.AVAILABLE,
    "reason": Reason.SLOTS,
    "detail": "Il n'existe plus de plage horaire libre.",
    "http_status": 503,
    "url": "https://www.hauts-de-seine.gouv.fr/booking/create/12084",
    "final_url": None,
    "slot_count": 3,
    "earliest_slot": T0 + timedelta(days=20),
    "sha256": "cd" * 32,
}


@pytest.mark.parametrize("field", sorted(CHANGES))
def test_it_changes_the_chain_when_any_canonical_field_changes(field: str) -> None:
    original = an_outcome()
    altered = an_outcome(**{field: CHANGES[field]})

    assert chain_hash(None, altered) != chain_hash(None, original)
    assert set(json.loads(canonical_fields(original))) == set(CHANGES)


def test_it_changes_the_chain_when_the_previous_link_changes() -> None:
    outcome = an_outcome()

    assert chain_hash("1" * 64, outcome) != chain_hash("2" * 64, outcome)


def test_it_ignores_fields_outside_the_canonical_set() -> None:
    outcome = an_outcome()
    stored = replace(outcome, id=42, chain="ff" * 32, evidence=("ab/x.html",))

    assert chain_hash(None, stored) == chain_hash(None, outcome)


def test_it_chains_the_instant_not_the_time_zone() -> None:
    paris = timezone(timedelta(hours=1))
    in_paris = an_outcome(
        started_at=T0.astimezone(paris), finished_at=(T0 + timedelta(seconds=3)).astimezone(paris)
    )

    assert chain_hash(None, in_paris) == chain_hash(None, an_outcome())


def test_it_refuses_to_chain_a_naive_timestamp() -> None:
    with pytest.raises(ValueError, match="naive"):
        chain_hash(None, an_outcome(started_at=datetime(2025, 3, 1, 8, 0)))
