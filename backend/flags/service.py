"""Flags as the clinician works with them: listed by urgency, acknowledged, resolved."""

from __future__ import annotations

from sqlalchemy import case
from sqlmodel import Session, col, select

from backend.audit.service import record
from backend.auth.service import Caller
from backend.clients.models import Client
from backend.clients.scope import client_for, visible_clients
from backend.clock import utcnow
from backend.errors import Conflict, Forbidden, NotFound
from backend.flags.models import Episode, Flag
from backend.flags.schemas import Acknowledgement, EpisodePublic, FlagPublic, Resolution
from backend.users.models import Role

#: Most urgent first; the order every flag list uses.
SEVERITY_RANK = case(
    {"urgent": 0, "warning": 1, "talk": 2, "info": 3}, value=col(Flag.severity), else_=4
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
    if caller.role != Role.therapist:
        raise Forbidden("Only the client's therapist can acknowledge or resolve flags.")
    return flag, client


def acknowledge_flag(
    *, session: Session, caller: Caller, code: str, flag_id: int, acknowledgement: Acknowledgement
) -> FlagPublic:
    flag, client = _own_flag(session, caller, code, flag_id, "acknowledge_flag")
    if flag.status not in ("open", "acknowledged"):
        raise Conflict(f"This flag is {flag.status} and can no longer be acknowledged.")
    flag.status = "acknowledged"
    flag.acknowledged_at = utcnow()
    flag.acknowledged_by = caller.id
    flag.action = acknowledgement.action
    flag.note = (acknowledgement.note or "").strip() or None
    session.add(flag)
    session.flush()
    return flag_public(flag, client.code)


def resolve_flag(
    *, session: Session, caller: Caller, code: str, flag_id: int, resolution: Resolution
) -> FlagPublic:
    flag, client = _own_flag(session, caller, code, flag_id, "resolve_flag")
    if flag.status == "resolved":
        return flag_public(flag, client.code)
    if flag.status == "withdrawn":
        raise Conflict("This flag was withdrawn after a rules change; there is nothing to resolve.")
    flag.status, flag.resolution = "resolved", "therapist"
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
