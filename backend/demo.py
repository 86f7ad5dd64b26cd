"""Demo data: a small clinic with realistic alliance trajectories, from a fixed seed.

Trajectories come from ``scoring.simulate``, the same generator the scoring tests
use, so the demo shows ruptures the rules were built to find: most clients near
the ceiling, some repaired ruptures, some unrepaired drops, slow declines, clients
who stop rating, a few comments and requests to talk.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from typing import Any

import numpy as np
import pandas as pd
from pydantic import TypeAdapter
from sqlalchemy import func, insert, update
from sqlmodel import Session, select

from backend.auth.passwords import hash_password
from backend.auth.tokens import link_token_hash, new_token
from backend.clients.codes import new_client_code
from backend.clients.models import Client
from backend.clock import today, utcnow
from backend.config import get_settings
from backend.db import Database
from backend.factories import add_staff, add_therapy_session
from backend.flags.models import ACTIONS, ACTIONS_NEEDING_A_NOTE, PLANNED_ACTIONS, Flag
from backend.flags.schemas import Acknowledgement, AcknowledgementOfAction, AcknowledgementOfOther
from backend.flags.scoring_sync import rescore_everyone
from backend.ratings.models import Rating
from backend.teams.models import Team
from backend.teams.service import add_supervisor, team_named
from backend.therapy.models import RatingLink, TherapySession
from backend.therapy.service import issue_link, link_url
from backend.users.models import Role, User
from scoring.instruments import DEFAULT_INSTRUMENT, current_wording_version, get_instrument
from scoring.simulate import simulate_caseload

DEMO_PASSWORD = "demo-rapport-2026"
SEED = 20261126
DEMO_THERAPIST = "therapist@demo.rapport"
ACKNOWLEDGEMENT: TypeAdapter[Acknowledgement] = TypeAdapter(Acknowledgement)


@dataclass(frozen=True)
class Scale:
    teams: tuple[str, ...]
    therapists_per_team: int
    clients: int
    sessions_range: tuple[int, int]


SCALES = {
    "small": Scale(("Riverside", "Harbour"), 2, 60, (8, 30)),
    # ~500 therapists, 20,000 clients, ~1,000,000 sessions: the speed targets' size.
    "large": Scale(tuple(f"Team {n:02d}" for n in range(1, 21)), 25, 20_000, (20, 80)),
}


def _people(session: Session, scale: Scale) -> list[User]:
    """Create the demo staff and return the therapists in a stable order."""
    password_hash = hash_password(DEMO_PASSWORD)
    teams = [team_named(session=session, name=name) for name in scale.teams]

    def user(email: str, name: str, role: Role, team: Team) -> User:
        return add_staff(
            session,
            email=email,
            display_name=name,
            role=role.value,
            team=team,
            password_hash=password_hash,
        )

    user("admin@demo.rapport", "Alex Admin", Role.admin, teams[0])
    supervisor = user("supervisor@demo.rapport", "Sam Supervisor", Role.supervisor, teams[0])
    add_supervisor(session=session, team_id=teams[1].id, user_id=supervisor.id)
    for n, team in enumerate(teams[2:], start=2):
        user(f"supervisor{n}@demo.rapport", f"Supervisor {n}", Role.supervisor, team)
    names = ["Taylor Therapist", "Jordan Rivers", "Morgan Hale", "Casey Lin"]
    therapists = []
    for t, team in enumerate(teams):
        for k in range(scale.therapists_per_team):
            n = t * scale.therapists_per_team + k
            email = DEMO_THERAPIST if n == 0 else f"therapist{n + 1}@demo.rapport"
            name = names[n] if n < len(names) else f"Therapist {n + 1}"
            therapists.append(user(email, name, Role.therapist, team))
    return therapists


def _dated(
    sessions: pd.DataFrame, ratings: pd.DataFrame, *, seed: int, until: date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Shift each client's weekly sessions so the latest falls within the last ten days."""
    last = sessions.groupby("client_id")["held_on"].transform("max")
    lag = pd.Series(
        np.random.default_rng(seed).integers(0, 10, len(sessions)), index=sessions.index
    )
    per_client_lag = lag.groupby(sessions["client_id"]).transform("first")
    shift = pd.Timestamp(until) - pd.to_datetime(last) - pd.to_timedelta(per_client_lag, unit="D")
    sessions = sessions.assign(held_on=(pd.to_datetime(sessions["held_on"]) + shift).dt.date)
    held = sessions.set_index(["client_id", "session_number"])["held_on"]
    ratings = ratings.assign(
        held_on=held.loc[
            list(zip(ratings["client_id"], ratings["session_number"], strict=True))
        ].to_numpy()
    )
    return sessions, ratings


def _insert_in_chunks(
    session: Session, model: type, rows: Iterable[dict[str, Any]], size: int = 20_000
) -> None:
    """Insert many rows without holding them all in memory (the large demo has ~1M)."""
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        session.execute(insert(model), chunk)


def load_demo(*, database: Database, scale: str = "small") -> str:
    """Fill an empty database; leave one with data untouched."""
    plan = SCALES[scale]
    with database.reading() as session:
        if session.exec(select(func.count()).select_from(User)).one():
            return "The database already has data; demo data was not loaded."
    caseload = simulate_caseload(
        plan.clients, seed=SEED, start=date(2026, 1, 5), sessions_range=plan.sessions_range
    )
    sessions, ratings = _dated(caseload.sessions, caseload.ratings, seed=SEED, until=today())
    instrument = get_instrument(DEFAULT_INSTRUMENT)
    codes = random.Random(SEED)
    with database.writing() as session:
        therapists = _people(session, plan)
        client_ids = sorted(sessions["client_id"].unique())
        client_rows = [
            {
                "code": new_client_code(codes.choice),
                "therapist_id": therapists[n % len(therapists)].id,
                "status": "active",
                "created_at": utcnow(),
            }
            for n, _ in enumerate(client_ids)
        ]
        session.execute(insert(Client), client_rows)
        db_ids = dict(session.execute(select(Client.code, Client.id)).all())
        client_db_id = {
            cid: db_ids[row["code"]] for cid, row in zip(client_ids, client_rows, strict=True)
        }
        therapist_of = {
            cid: row["therapist_id"] for cid, row in zip(client_ids, client_rows, strict=True)
        }

        _insert_in_chunks(
            session,
            TherapySession,
            (
                {
                    "client_id": client_db_id[r.client_id],
                    "session_number": int(r.session_number),
                    "held_on": r.held_on,
                    "instrument": instrument.id,
                    "created_by": therapist_of[r.client_id],
                    "created_at": utcnow(),
                }
                for r in sessions.itertuples(index=False)
            ),
        )
        session_ids = {
            (cid, number): sid
            for sid, cid, number in session.execute(
                select(TherapySession.id, TherapySession.client_id, TherapySession.session_number)
            )
        }
        rated = set()

        def rating_rows() -> Iterator[dict[str, Any]]:
            for r in ratings.itertuples(index=False):
                sid = session_ids[(client_db_id[r.client_id], int(r.session_number))]
                rated.add(sid)
                scores = {key: float(getattr(r, key)) for key in instrument.item_keys}
                comment = getattr(r, "comment", None)
                yield {
                    "therapy_session_id": sid,
                    "instrument": instrument.id,
                    "wording_version": current_wording_version(instrument.id),
                    "scores": scores,
                    "total": instrument.total(scores),
                    "comment": comment if isinstance(comment, str) and comment else None,
                    "wants_to_talk": bool(r.wants_to_talk),
                    "payload_hash": f"demo-{sid}",
                    "idempotency_key": None,
                    "submitted_at": datetime.combine(r.held_on, time(18, 0), tzinfo=UTC),
                }

        _insert_in_chunks(session, Rating, rating_rows())
        created = utcnow() - timedelta(days=30)
        _insert_in_chunks(
            session,
            RatingLink,
            (
                {
                    "therapy_session_id": sid,
                    # The hash of a token nobody is given: old demo links cannot be opened.
                    "token_hash": link_token_hash(new_token()),
                    "language": "en",
                    "created_at": created,
                    "expires_at": created + timedelta(days=7),
                    "used_at": created if sid in rated else None,
                }
                for sid in session_ids.values()
            ),
        )
    rescore_everyone(database=database)
    _date_flags_by_their_ratings(database)
    _work_through_old_flags(database, seed=SEED)
    return (
        f"Loaded demo data: {len(therapists)} therapists, {len(client_ids)} clients, "
        f"{len(sessions)} sessions, {len(ratings)} ratings."
    )


def _date_flags_by_their_ratings(database: Database) -> None:
    """Date each flag from the rating that raised it, as if each rating had been scored as
    it came in: loading scores the whole history at once, and every flag read "raised
    today", so nothing in the demo had ever waited."""
    submitted = (
        select(Rating.submitted_at)
        .join(TherapySession, TherapySession.id == Rating.therapy_session_id)
        .where(
            TherapySession.client_id == Flag.client_id,
            TherapySession.session_number == Flag.session_number,
        )
        .scalar_subquery()
    )
    with database.writing() as session:
        session.execute(update(Flag).values(created_at=func.coalesce(submitted, Flag.created_at)))


#: What a demo therapist writes where the form requires a note ("Other").
DEMO_NOTE = "Wrote to the client after the session to check in."


def _as_the_form_records(action: str) -> AcknowledgementOfAction | AcknowledgementOfOther:
    """The demo's acknowledgement, through the API's own rules (a note where one is needed)."""
    note = DEMO_NOTE if action in ACTIONS_NEEDING_A_NOTE else None
    return ACKNOWLEDGEMENT.validate_python({"action": action, "note": note})


def _work_through_old_flags(database: Database, *, seed: int) -> None:
    """Make the past look lived-in: most flags older than three weeks were acted on."""
    rng = random.Random(seed)
    cutoff = today() - timedelta(days=21)
    with database.writing() as session:
        old = session.execute(
            select(Flag.id, Flag.held_on, Client.therapist_id)
            .join(Client, Client.id == Flag.client_id)
            .where(Flag.status == "open", Flag.held_on < cutoff)
            .order_by(Flag.id)
        ).all()
        changes = []
        for flag_id, held_on, therapist_id in old:
            if rng.random() > 0.85:
                continue  # left unacknowledged: what a supervisor's review should catch
            acted_on = datetime.combine(held_on + timedelta(days=rng.randint(1, 6)), time(9), UTC)
            recorded = _as_the_form_records(rng.choice(ACTIONS))
            change = {
                "id": flag_id,
                "status": "acknowledged",
                "action": recorded.action,
                "note": recorded.note,
                "acknowledged_at": acted_on,
                "acknowledged_by": therapist_id,
                "resolution": None,
                "resolved_at": None,
                "resolved_by": None,
            }
            # A plan is not yet done: the flag stays acknowledged until what was done is.
            if recorded.action not in PLANNED_ACTIONS and rng.random() < 0.6:
                change.update(
                    status="resolved",
                    resolution="therapist",
                    resolved_at=acted_on,
                    resolved_by=therapist_id,
                )
            changes.append(change)
        if changes:
            session.execute(update(Flag), changes)


def demo_rating_link(*, database: Database) -> str | None:
    """A fresh link for the demo therapist's first client: a new session held today."""
    with database.writing() as session:
        therapist = session.exec(select(User).where(User.email == DEMO_THERAPIST)).first()
        if therapist is None:
            return None
        client = session.exec(
            select(Client)
            .where(Client.therapist_id == therapist.id, Client.status == "active")
            .order_by(Client.code)
        ).first()
        if client is None:
            return None
        pending = session.exec(
            select(TherapySession)
            .where(TherapySession.client_id == client.id, TherapySession.held_on == today())
            .where(~TherapySession.id.in_(select(Rating.therapy_session_id)))
        ).first()
        if pending is None:
            last = session.exec(
                select(func.max(TherapySession.session_number)).where(
                    TherapySession.client_id == client.id
                )
            ).one()
            pending = add_therapy_session(
                session, client=client, number=(last or 0) + 1, held_on=today()
            )
        issued = issue_link(session, get_settings(), pending, "en")
        return f"{link_url(get_settings(), issued.token)}   (client {client.code})"
