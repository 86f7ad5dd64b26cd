"""Flags as the clinician works with them: listed by urgency, acknowledged, resolved."""

from __future__ import annotations

from sqlalchemy import case
from sqlmodel import Session, col, select

from backend.audit.writer import record
from backend.auth.caller import ANSWER_FLAGS, Caller, require
from backend.clients.models import Client
from backend.clients.scope import client_for, visible_clients
from backend.clock import utcnow
from backend.errors import Conflict, NotFound
from backend.flags.models import PLANNED_ACTIONS, Episode, Flag, ScoringCalibration
from backend.flags.schemas import (
    Acknowledgement,
    CalibrationPublic,
    EpisodePublic,
    FlagPublic,
    RangePublic,
    Resolution,
)
from backend.flags.scoring_sync import score_clients
from scoring.instruments import get_instrument, instrument_ids
from scoring.rules import CLIENT_REQUEST_RULE
from scoring.vocabulary import LIVE_FLAG_STATUSES, FlagStatus, Severity
from scoring.vocabulary import Resolution as ResolvedBy

#: Why a request to talk cannot be resolved yet: it is the client's, and stays live until
#: the therapist records what they did (README, "How flags work").
TALK_REQUEST_NEEDS_WHAT_WAS_DONE = (
    "A request to talk stays open until you record what you did about it. "
    "Record what you did (not what you plan to do), then mark it resolved."
)

#: Most urgent first; the order every flag list uses.
SEVERITY_RANK = case(
    {s.value: s.rank for s in Severity}, value=col(Flag.severity), else_=len(Severity)
)


def flag_public(flag: Flag, client_code: str) -> FlagPublic:
    return FlagPublic(
        client_code=client_code,
        **flag.model_dump(exclude={"client_id", "acknowledged_by", "resolved_by", "item"}),
        item=flag.item or None,
    )


def flags_of_client(
    *, session: Session, caller: Caller, code: str, statuses: tuple[str, ...] | None = None
) -> list[FlagPublic]:
    client = client_for(session=session, caller=caller, code=code, action="read_flags")
    return flags_for_client(session=session, client=client, statuses=statuses)


def flags_for_client(
    *, session: Session, client: Client, statuses: tuple[str, ...] | None = None
) -> list[FlagPublic]:
    """A client's flags (already in the caller's scope), most pressing first."""
    query = select(Flag).where(Flag.client_id == client.id)
    if statuses:
        query = query.where(col(Flag.status).in_(statuses))
    flags = session.exec(
        query.order_by(SEVERITY_RANK, col(Flag.session_number).desc(), col(Flag.id).desc())
    )
    return [flag_public(f, client.code) for f in flags]


def caseload_flags(
    *, session: Session, caller: Caller, statuses: tuple[str, ...] = ("open",), limit: int = 500
) -> list[FlagPublic]:
    """The caller's caseload flags, most severe and oldest first."""
    record(session=session, action="read_caseload_flags", caller=caller)
    rows = session.exec(
        select(Flag, Client.code)
        .join(Client, col(Client.id) == Flag.client_id)
        .where(visible_clients(caller), col(Flag.status).in_(statuses))
        .order_by(SEVERITY_RANK, col(Flag.created_at), col(Flag.id))
        .limit(limit)
    )
    return [flag_public(flag, code) for flag, code in rows]


def _own_flag(
    session: Session, caller: Caller, code: str, flag_id: int, action: str
) -> tuple[Flag, Client]:
    client = client_for(
        session=session, caller=caller, code=code, action=action, object_id=f"flag:{flag_id}"
    )
    flag = session.get(Flag, flag_id)
    if flag is None or flag.client_id != client.id:
        raise NotFound("No such flag for this client.")
    require(caller, ANSWER_FLAGS)
    return flag, client


def acknowledge_flag(
    *, session: Session, caller: Caller, code: str, flag_id: int, acknowledgement: Acknowledgement
) -> FlagPublic:
    """Record what the therapist did. Completing a planned action keeps the plan beside
    the outcome, so a future-tense note never stands for what happened."""
    flag, client = _own_flag(session, caller, code, flag_id, "acknowledge_flag")
    if flag.status not in LIVE_FLAG_STATUSES:
        raise Conflict(f"This flag is {flag.status} and can no longer be acknowledged.")
    if flag.action in PLANNED_ACTIONS and acknowledgement.action not in PLANNED_ACTIONS:
        # Done what was planned: the plan stays on the record, the note says what happened.
        flag.planned_action, flag.plan_note = flag.action, flag.note
        flag.planned_at = flag.acknowledged_at
    flag.status = FlagStatus.acknowledged
    flag.acknowledged_at = utcnow()
    flag.acknowledged_by = caller.id
    flag.action = acknowledgement.action
    flag.note = (acknowledgement.note or "").strip() or None
    session.add(flag)
    session.flush()
    return flag_public(flag, client.code)


def records_what_was_done(flag: Flag) -> bool:
    """Whether the therapist recorded an action taken, not only one planned."""
    return flag.action is not None and flag.action not in PLANNED_ACTIONS


def resolve_flag(
    *, session: Session, caller: Caller, code: str, flag_id: int, resolution: Resolution
) -> FlagPublic:
    """Close a flag. A client's request to talk closes only once the therapist recorded
    what they did: resolving it in one click would leave nothing behind for the client."""
    flag, client = _own_flag(session, caller, code, flag_id, "resolve_flag")
    if flag.status == FlagStatus.resolved:
        return flag_public(flag, client.code)
    if flag.status == FlagStatus.withdrawn:
        raise Conflict("This flag was withdrawn by scoring; there is nothing to resolve.")
    if flag.rule == CLIENT_REQUEST_RULE and not records_what_was_done(flag):
        raise Conflict(TALK_REQUEST_NEEDS_WHAT_WAS_DONE)
    flag.status, flag.resolution = FlagStatus.resolved, ResolvedBy.therapist
    flag.resolved_at, flag.resolved_by = utcnow(), caller.id
    if resolution.note:
        flag.note = resolution.note.strip()
    session.add(flag)
    session.flush()
    return flag_public(flag, client.code)


def episodes_of_client(*, session: Session, caller: Caller, code: str) -> list[EpisodePublic]:
    client = client_for(session=session, caller=caller, code=code, action="read_episodes")
    return episodes_for_client(session=session, client_id=client.id)


def episodes_for_client(*, session: Session, client_id: int) -> list[EpisodePublic]:
    episodes = session.exec(
        select(Episode).where(Episode.client_id == client_id).order_by(col(Episode.opened_session))
    )
    return [EpisodePublic(**e.model_dump()) for e in episodes]


def calibrations(*, session: Session) -> list[CalibrationPublic]:
    """For every instrument, the week-to-week SD in force and where it comes from."""
    stored = {row.instrument: row for row in session.exec(select(ScoringCalibration))}
    out = []
    for instrument_id in instrument_ids():
        row = stored.get(instrument_id)
        default = get_instrument(instrument_id).psychometrics.within_sd
        out.append(
            CalibrationPublic(
                instrument=instrument_id,
                within_sd=row.within_sd if row else default,
                source="clinic estimate" if row else "instrument default",
                ratings=row.ratings if row else None,
                clients=row.clients if row else None,
                estimated_at=row.estimated_at if row else None,
            )
        )
    return out


def ranges_of_client(*, session: Session, caller: Caller, code: str) -> list[RangePublic]:
    """Per rating, the usual range scoring judged it by, so a chart draws scoring's own
    numbers and computes none. Recomputed from the stored history: the same function and
    configuration that made the stored flags give the same numbers."""
    client = client_for(session=session, caller=caller, code=code, action="read_ranges")
    return ranges_for_client(session=session, client_id=client.id)


def ranges_for_client(*, session: Session, client_id: int) -> list[RangePublic]:
    """``ranges_of_client`` for a client already in the caller's scope (the client page)."""
    ranges = score_clients(session, [client_id]).records.ranges
    return [
        RangePublic(
            session_number=row["session_number"],
            instrument=row["instrument"],
            total=row["total"],
            usual=_rounded(row["usual"]),
            usual_sd=_rounded(row["usual_sd"]),
            usual_low=_rounded(row["usual_low"]),
            change_from_previous=_rounded(row["change_from_previous"]),
            in_episode=row["in_episode"],
        )
        for row in ranges
    ]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
