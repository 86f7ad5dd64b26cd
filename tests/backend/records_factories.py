"""Clients with a long, scored history, written straight to the database (fast)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from backend.clients.models import Client
from backend.db import Database
from backend.flags.scoring_sync import rescore_clients
from backend.ratings.models import Rating
from backend.therapy.models import TherapySession
from scoring.instruments import current_wording_version, get_instrument
from tests.backend.factories import SignedIn, alliance4, make_client, make_session_with_link

FIRST_SESSION = date(2022, 1, 3)


def rated_history(
    db: Database,
    client: Client,
    totals_per_item: list[float],
    *,
    instrument: str = "alliance4",
    comments: dict[int, str] | None = None,
    talk: frozenset[int] = frozenset(),
) -> None:
    """One weekly session per entry, every item rated ``value``; then scored as usual."""
    if not totals_per_item:
        return
    scale = get_instrument(instrument)
    comments = comments or {}
    with db.writing() as session:
        for number, value in enumerate(totals_per_item, start=1):
            held = FIRST_SESSION + timedelta(days=7 * (number - 1))
            therapy_session = TherapySession(
                client_id=client.id,
                session_number=number,
                held_on=held,
                instrument=instrument,
                created_by=client.therapist_id,
            )
            session.add(therapy_session)
            session.flush()
            scores = dict.fromkeys(scale.item_keys, value)
            session.add(
                Rating(
                    therapy_session_id=therapy_session.id,
                    instrument=instrument,
                    wording_version=current_wording_version(instrument),
                    scores=scores,
                    total=scale.total(scores),
                    comment=comments.get(number),
                    wants_to_talk=number in talk,
                    payload_hash=f"{client.id}-{number}",
                    submitted_at=datetime.combine(held, datetime.min.time(), UTC)
                    + timedelta(hours=18),
                )
            )
        session.flush()
        rescore_clients(session=session, client_ids=[client.id], on=held)


def rate(api, db: Database, client: Client, scores: dict, **extra) -> None:
    """The client answers a new session's link on their phone."""
    _, token = make_session_with_link(db, client, instrument=extra.pop("instrument", "alliance4"))
    body = {"scores": scores, **extra}
    assert api.post(f"/api/public/ratings/{token}", json=body).status_code == 201


def ruptured(
    api,
    db: Database,
    therapist: SignedIn,
    *,
    comment: str | None = None,
    action: str = "raised_in_session",
    note: str | None = None,
) -> Client:
    """Four steady ratings, then a sharp drop with a request to talk (and ``comment``);
    the therapist acknowledges the request to talk with ``action`` and ``note``."""
    client = make_client(db, therapist)
    for _ in range(4):
        rate(api, db, client, alliance4(9.6, 9.5, 9.4, 9.5))
    rate(api, db, client, alliance4(6.0, 7.0, 7.5, 7.0), wants_to_talk=True, comment=comment)
    flags = api.get(f"/api/clients/{client.code}/flags", headers=therapist.headers).json()
    request = next(f for f in flags if f["rule"] == "client_wants_to_talk")
    acknowledged = api.post(
        f"/api/clients/{client.code}/flags/{request['id']}/acknowledge",
        json={"action": action, "note": note},
        headers=therapist.headers,
    )
    assert acknowledged.status_code == 200, acknowledged.text
    return client
