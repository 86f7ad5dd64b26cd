from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from backend.auth.deps import CallerDep
from backend.clients.schemas import ClientCode, ClientStatus
from backend.config import SettingsDep
from backend.db import DatabaseDep
from backend.i18n import SOURCE_LANGUAGE, translations_for
from backend.overview.client_page import client_page
from backend.overview.schemas import (
    CaseloadRow,
    ClientPage,
    InstrumentListing,
    TeamOverview,
    WordingVersionListing,
)
from backend.overview.service import caseload, team_overview
from backend.problems import refusals
from backend.ratings.service import instrument_public
from scoring.instruments import (
    DEFAULT_INSTRUMENT,
    get_instrument,
    instrument_ids,
    wording_versions,
)

router = APIRouter(prefix="/api", tags=["overview"], responses=refusals(401, 403, 422))


@router.get("/caseload", response_model=list[CaseloadRow])
def my_caseload(
    caller: CallerDep,
    db: DatabaseDep,
    status: ClientStatus = "active",
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> list[CaseloadRow]:
    """The caller's clients (a supervisor: their teams'), those needing attention first.

    Sorted urgent, then warning, then talk, then the rest; ties by the oldest open flag.
    Administrators get 403: they manage assignments, not clinical data.
    """
    with db.reading() as session:
        return caseload(session=session, caller=caller, status=status, limit=limit)


@router.get("/team/overview", response_model=TeamOverview)
def team(
    caller: CallerDep,
    db: DatabaseDep,
    weeks: Annotated[int, Query(ge=1, le=104)] = 12,
    instrument: Annotated[
        str, Query(max_length=40, json_schema_extra={"enum": list(instrument_ids())})
    ] = DEFAULT_INSTRUMENT,
) -> TeamOverview:
    """Weekly trend, per-therapist numbers and the repair queue of the supervisor's teams.

    Supervisors only: therapists and administrators get 403. Weekly means use one
    instrument (totals of different instruments are on different scales).
    """
    with db.reading() as session:
        return team_overview(session=session, caller=caller, weeks=weeks, instrument=instrument)


@router.get("/clients/{client_id}/page", response_model=ClientPage, responses=refusals(404))
def client(
    client_id: ClientCode, caller: CallerDep, db: DatabaseDep, settings: SettingsDep
) -> ClientPage:
    """A client's page in one answer: record, private label, latest total and change,
    rupture status, sessions, ratings, flags (most pressing first) and ruptures.

    The client's therapist and their supervisors; anyone else gets 404.
    """
    with db.reading() as session:
        return client_page(session=session, settings=settings, caller=caller, code=client_id)


@router.get("/instruments", response_model=list[InstrumentListing])
def instruments(_caller: CallerDep) -> list[InstrumentListing]:
    """The questionnaires this service knows (the default first), in English, with their
    cutoffs, range and item wordings: everything the dashboard needs to draw them, so an
    instrument registered in this process shows there too."""
    ids = sorted(instrument_ids(), key=lambda i: i != DEFAULT_INSTRUMENT)
    return [
        InstrumentListing(
            instrument=instrument_public(found, translations_for(SOURCE_LANGUAGE)),
            total_cutoff=found.psychometrics.total_cutoff,
            item_cutoff=found.psychometrics.item_cutoff,
            total_min=found.total_min,
            total_max=found.total_max,
            wording_versions=[
                WordingVersionListing(
                    number=version.number,
                    introduced_on=version.introduced_on,
                    construct_changed=list(version.construct_changed),
                )
                for version in wording_versions(found.id)
            ],
        )
        for found in map(get_instrument, ids)
    ]
