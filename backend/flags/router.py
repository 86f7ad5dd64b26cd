from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from backend.auth.deps import CallerDep
from backend.clients.schemas import ClientCode
from backend.db import DatabaseDep
from backend.flags.schemas import (
    Acknowledgement,
    CalibrationPublic,
    EpisodePublic,
    FlagPublic,
    FlagStatus,
    RangePublic,
    Resolution,
)
from backend.flags.service import (
    acknowledge_flag,
    calibrations,
    caseload_flags,
    episodes_of_client,
    flags_of_client,
    ranges_of_client,
    resolve_flag,
)
from backend.problems import refusals

router = APIRouter(prefix="/api", tags=["flags"], responses=refusals(401, 403, 404, 409, 422))

FlagId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Statuses = Annotated[list[FlagStatus] | None, Query(alias="status")]


@router.get("/flags", response_model=list[FlagPublic])
def my_flags(caller: CallerDep, db: DatabaseDep, status: Statuses = None) -> list[FlagPublic]:
    """Flags across the caller's caseload (a supervisor: their teams'), most severe first."""
    with db.reading() as session:
        return caseload_flags(session=session, caller=caller, statuses=tuple(status or ["open"]))


@router.get("/clients/{client_id}/flags", response_model=list[FlagPublic])
def client_flags(
    client_id: ClientCode, caller: CallerDep, db: DatabaseDep, status: Statuses = None
) -> list[FlagPublic]:
    with db.reading() as session:
        return flags_of_client(
            session=session, caller=caller, code=client_id, statuses=tuple(status or ())
        )


@router.get("/clients/{client_id}/ranges", response_model=list[RangePublic])
def client_ranges(client_id: ClientCode, caller: CallerDep, db: DatabaseDep) -> list[RangePublic]:
    """Per rating, oldest first: the client's usual range scoring judged it by, the change
    from the previous rating, and whether it fell inside a rupture episode."""
    with db.reading() as session:
        return ranges_of_client(session=session, caller=caller, code=client_id)


@router.post("/clients/{client_id}/flags/{flag_id}/acknowledge", response_model=FlagPublic)
def acknowledge(
    client_id: ClientCode,
    flag_id: FlagId,
    body: Acknowledgement,
    caller: CallerDep,
    db: DatabaseDep,
) -> FlagPublic:
    with db.writing() as session:
        return acknowledge_flag(
            session=session, caller=caller, code=client_id, flag_id=flag_id, acknowledgement=body
        )


@router.post("/clients/{client_id}/flags/{flag_id}/resolve", response_model=FlagPublic)
def resolve(
    client_id: ClientCode, flag_id: FlagId, body: Resolution, caller: CallerDep, db: DatabaseDep
) -> FlagPublic:
    """Mark a flag resolved. A client's request to talk (rule ``client_wants_to_talk``) is
    refused with 409 until it was acknowledged with what the therapist did (an action that
    is not only planned): it is the client's, and never closes with nothing recorded."""
    with db.writing() as session:
        return resolve_flag(
            session=session, caller=caller, code=client_id, flag_id=flag_id, resolution=body
        )


@router.get("/clients/{client_id}/episodes", response_model=list[EpisodePublic])
def client_episodes(
    client_id: ClientCode, caller: CallerDep, db: DatabaseDep
) -> list[EpisodePublic]:
    with db.reading() as session:
        return episodes_of_client(session=session, caller=caller, code=client_id)


@router.get("/scoring/calibration", response_model=list[CalibrationPublic])
def scoring_calibration(caller: CallerDep, db: DatabaseDep) -> list[CalibrationPublic]:
    """Which week-to-week SD each instrument's new clients are judged by: the clinic's own
    estimate (made by ``rapport rescore``) or the instrument's default. No client data."""
    with db.reading() as session:
        return calibrations(session=session)
