"""Assisted sessions in the store (issue 27): ``assisted_by`` stored, chained and verified;
sessions opened and ended; ``assist_needed`` written with a delivery per subscribing channel."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import Database, database_at, write_config
from pg import create_database, shared_pg_url
from sqlalchemy import select, update

from monitor.attempt.record import record
from monitor.config import Channel, load_config
from monitor.domain import Detail, Engine, EventKind, Finding, Observation, Outcome, Reason, Status
from monitor.evidence.verify import verify_targets
from monitor.store.assist import SessionTaken
from monitor.store.evidence import canonical_fields
from monitor.store.rows import assist_sessions, deliveries, events, outcomes

T0 = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
_databases = itertools.count()
TARGET = "75/titre-sejour"
CONSOLE = "https://console.example.invalid/"


def an_outcome(minutes: int, assisted_by: str | None) -> Outcome:
    at = T0 + timedelta(minutes=minutes)
    return Outcome(
        target=TARGET,
        prefecture="75",
        started_at=at,
        finished_at=at + timedelta(seconds=3),
        engine=Engine.BROWSER,
        status=Status.UNAVAILABLE,
        reason=Reason.NO_SLOT,
        detail="Aucun créneau disponible",
        url="https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/1/creneau/",
        node="paris-1",
        assisted_by=assisted_by,
    )


def test_assisted_by_is_stored_chained_verified_and_an_edit_is_caught(
    database: Database, tmp_path: Path
) -> None:
    made = [
        database.record(an_outcome(0, None)),  # an ordinary probe: the captcha
        database.record(an_outcome(10, "Camille")),
        database.record(an_outcome(20, "Camille")),
        database.record(an_outcome(30, None)),
    ]
    read = list(database.repository.history(newest_first=False))
    assert [outcome.assisted_by for outcome in read] == [None, "Camille", "Camille", None]
    assert read == made
    # Rows without an operator hash as before 0005; rows with one carry it in the chain.
    assert b"assisted_by" not in canonical_fields(made[0])
    assert b'"assisted_by":"Camille"' in canonical_fields(made[1])
    (report,) = verify_targets(database.repository, tmp_path, [TARGET])
    assert report.problems == []

    with database.repository.engine.begin() as connection:
        connection.execute(
            update(outcomes).where(outcomes.c.id == made[1].id).values(assisted_by="Mallory")
        )
        # A name slipped into a row that had none is caught too.
        connection.execute(
            update(outcomes).where(outcomes.c.id == made[3].id).values(assisted_by="Camille")
        )
    (report,) = verify_targets(database.repository, tmp_path, [TARGET])
    assert [problem.outcome_id for problem in report.problems] == [made[1].id, made[3].id]


@pytest.fixture
def pg_database(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Database]:
    url = create_database(shared_pg_url(request.config), f"assist_records_{next(_databases)}")
    yield from database_at(url, tmp_path, tmp_path, monkeypatch)


def test_sessions_are_opened_once_per_target_and_ended_with_their_reason(
    database: Database,
) -> None:
    sessions_are_opened_once_per_target_and_ended_with_their_reason(database)


@pytest.mark.postgres
def test_sessions_on_postgresql(pg_database: Database) -> None:
    sessions_are_opened_once_per_target_and_ended_with_their_reason(pg_database)


def sessions_are_opened_once_per_target_and_ended_with_their_reason(database: Database) -> None:
    repository = database.repository
    first = repository.open_assist_session(TARGET, "paris-1", "Camille", T0)
    other = repository.open_assist_session("92/remise-titre", "lyon-2", "Sami", T0)
    assert repository.live_assist_sessions() == {TARGET: "paris-1", "92/remise-titre": "lyon-2"}

    with pytest.raises(SessionTaken, match=r"75/titre-sejour .* held by paris-1"):
        repository.open_assist_session(TARGET, "lyon-2", "Sami", T0 + timedelta(minutes=1))

    repository.end_assist_session(first, "reads_used", 7, T0 + timedelta(hours=1))
    repository.end_assist_session(first, "stopped", 9, T0 + timedelta(hours=2))  # first end kept
    assert repository.live_assist_sessions() == {"92/remise-titre": "lyon-2"}
    again = repository.open_assist_session(TARGET, "lyon-2", "Sami", T0 + timedelta(hours=3))
    assert again > first

    # A node starting again ends what it held when it died; the others' stay live.
    assert repository.end_node_assist_sessions("lyon-2", "stopped", T0 + timedelta(hours=4)) == [
        "92/remise-titre",
        TARGET,
    ]
    assert repository.live_assist_sessions() == {}

    with repository.engine.connect() as connection:
        rows = connection.execute(select(assist_sessions).order_by(assist_sessions.c.id)).all()
    assert [
        (row.id, row.target, row.node, row.operator, row.end_reason, row.reads) for row in rows
    ] == [
        (first, TARGET, "paris-1", "Camille", "reads_used", 7),
        (other, "92/remise-titre", "lyon-2", "Sami", "stopped", 0),
        (again, TARGET, "lyon-2", "Sami", "stopped", 0),
    ]
    assert rows[0].opened_at == T0 and rows[0].ended_at == T0 + timedelta(hours=1)

    with pytest.raises(ValueError, match="no assisted session 999"):
        repository.end_assist_session(999, "stopped", 0, T0)
    with pytest.raises(ValueError, match="operator is empty"):
        repository.open_assist_session(TARGET, "paris-1", "  ", T0)
    with pytest.raises(ValueError, match="at most 100 are kept"):
        repository.open_assist_session(TARGET, "paris-1", "x" * 101, T0)


def channel(id: str, **filters: object) -> Channel:
    return Channel.model_validate({"id": id, "url": "mailto://u:p@example.invalid", **filters})


def test_ask_for_assist_writes_the_event_and_a_delivery_per_subscribing_channel(
    database: Database,
) -> None:
    ask_for_assist_writes_the_event_and_a_delivery_per_subscribing_channel(database)


@pytest.mark.postgres
def test_ask_for_assist_on_postgresql(pg_database: Database) -> None:
    ask_for_assist_writes_the_event_and_a_delivery_per_subscribing_channel(pg_database)


def ask_for_assist_writes_the_event_and_a_delivery_per_subscribing_channel(
    database: Database,
) -> None:
    repository = database.repository
    channels = [
        channel("everything"),
        channel("assist-75", events=["assist_needed"], targets=["75/*"]),
        channel("slots-only", events=["slots_opened"]),
        channel("assist-92", events=["assist_needed"], targets=["92/*"]),
    ]
    assert repository.last_asked_for_assist(TARGET) is None
    assert repository.ask_for_assist(TARGET, console_url=CONSOLE, channels=channels, now=T0)
    session = repository.open_assist_session(TARGET, "paris-1", "Camille", T0 + timedelta(hours=1))
    repository.end_assist_session(session, "sent_back", 2, T0 + timedelta(hours=2))
    later = T0 + timedelta(hours=3)
    assert repository.ask_for_assist(TARGET, console_url=CONSOLE, channels=channels, now=later)
    again = T0 + timedelta(hours=5)
    assert repository.ask_for_assist(TARGET, console_url=CONSOLE, channels=channels, now=again)
    # No channel wants it for this target: the ask is kept, and said to reach nobody.
    assert not repository.ask_for_assist(
        "13/naturalisation", console_url=CONSOLE, channels=channels[2:], now=later
    )
    assert repository.last_asked_for_assist(TARGET) == again

    with repository.engine.connect() as connection:
        stored = connection.execute(select(events).order_by(events.c.id)).all()
        sent_to = connection.execute(
            select(deliveries.c.event_id, deliveries.c.channel_id).order_by(deliveries.c.id)
        ).all()
    assert [(row.kind, row.target, row.reminder) for row in stored] == [
        (EventKind.ASSIST_NEEDED.value, TARGET, False),
        (EventKind.ASSIST_NEEDED.value, TARGET, False),  # a session was opened since
        (EventKind.ASSIST_NEEDED.value, TARGET, True),  # nobody answered the last ask
        (EventKind.ASSIST_NEEDED.value, "13/naturalisation", False),
    ]
    assert stored[0].payload == {"console_url": CONSOLE}
    assert stored[1].payload == {
        "console_url": CONSOLE,
        "since": (T0 + timedelta(hours=2)).isoformat(),
        "end_reason": "sent_back",
    }
    assert [(row.event_id, row.channel_id) for row in sent_to] == [
        (stored[0].id, "everything"),
        (stored[0].id, "assist-75"),
        (stored[1].id, "everything"),
        (stored[1].id, "assist-75"),
        (stored[2].id, "everything"),
        (stored[2].id, "assist-75"),
    ]


def test_record_writes_the_operator_of_the_session_a_probe_ran_in(
    database: Database, tmp_path: Path
) -> None:
    path = write_config(
        tmp_path / "prefectures.yaml",
        database=database.url,
        targets=[
            {
                "id": "titre-sejour",
                "name": "Titre de séjour",
                "platform": "rdv-prefecture",
                "url": "https://www.rdv-prefecture.interieur.gouv.fr/rdvpref/reservation/demarche/1/",
            }
        ],
    )
    config = load_config(path, env={})
    [target] = config.targets()

    def seen(minutes: int) -> Observation:
        at = T0 + timedelta(minutes=minutes)
        return Observation(
            target=target.id,
            engine=target.engine,
            url=target.url,
            started_at=at,
            finished_at=at,
            failure=Finding(
                Status.ANOMALY,
                Reason.TIMEOUT,
                Detail("probe_timeout", {"seconds": 9.0, "held": None}),
            ),
        )

    common = {"settings": config.settings, "channels": config.channels}
    ordinary = record(database.repository, target, seen(0), now=T0, **common)
    assisted = record(
        database.repository, target, seen(10), now=T0, assisted_by="Camille", **common
    )
    assert (ordinary.assisted_by, assisted.assisted_by) == (None, "Camille")
    assert [o.assisted_by for o in database.repository.history(newest_first=False)] == [
        None,
        "Camille",
    ]
