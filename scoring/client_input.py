"""One client's ratings and sessions as records, checked against the input contract.

The one-client path (``scoring.one_client``) takes plain records, not frames; this
module holds them to ``scoring.schema``'s contract with its refusals, value by value,
so a malformed record fails with the message the caseload path gives for the same
defect.
"""

from __future__ import annotations

import datetime as dt
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from scoring.instruments import Instrument, UnknownInstrument, get_instrument
from scoring.schema import (
    RATINGS,
    SESSIONS,
    ScoringInputError,
    duplicate_row,
    empty_values,
    ids_not_strings,
    item_empty,
    item_outside,
    missing_columns,
    not_dates,
    session_negative,
    sessions_not_whole,
    talk_empty,
    talk_not_bool,
    total_empty,
    total_outside,
    totals_not_numbers,
    unknown_instrument,
)


class CheckedRating:
    """One checked rating: ``items`` in its instrument's item order."""

    __slots__ = ("held_on", "instrument", "items", "session", "total", "wants")

    def __init__(
        self,
        session: int,
        held_on: dt.date,
        instrument: Instrument,
        total: float,
        wants: bool,
        items: tuple[float, ...],
    ) -> None:
        self.session = session
        self.held_on = held_on
        self.instrument = instrument
        self.total = total
        self.wants = wants
        self.items = items


def one_client(
    ratings: Sequence[Mapping[str, Any]], sessions: Sequence[Mapping[str, Any]]
) -> str | None:
    """The client every record names (None without records), or a refusal."""
    clients = set()
    for table, records, required in (
        ("ratings", ratings, RATINGS.required),
        ("sessions", sessions, SESSIONS.required),
    ):
        for record in records:
            if type(record) is not dict and not isinstance(record, Mapping):
                raise ScoringInputError(
                    f"{table} must be records (mappings), not {type(record).__name__}"
                )
            if not all(name in record for name in required):
                raise missing_columns(table, [name for name in required if name not in record])
            client = record["client_id"]
            if type(client) is not str:
                if _is_empty(client):
                    raise empty_values(table, "client_id")
                if not isinstance(client, str):
                    raise ids_not_strings(table)
            clients.add(client)
    if len(clients) > 1:
        raise ScoringInputError(
            f"score_client scores one client; the records name {len(clients)}: "
            + ", ".join(sorted(clients))
        )
    return clients.pop() if clients else None


def checked_ratings(records: Sequence[Mapping[str, Any]], client: str) -> list[CheckedRating]:
    out = []
    seen: set[int] = set()
    known: dict[str, tuple[Instrument, tuple[str, ...]]] = {}
    for record in records:
        session = _session_number(record["session_number"], "ratings")
        held_on = _date(record["held_on"], "ratings")
        name = record["instrument"]
        if type(name) is str and name in known:
            instrument, keys = known[name]
        else:
            instrument = _instrument(name)
            keys = instrument.item_keys
            known[instrument.id] = instrument, keys
        total = _total(record["total"], client, session)
        if not instrument.total_min <= total <= instrument.total_max:
            raise total_outside(total, client, session, instrument)
        items = tuple(_item(record, key, client, session, instrument) for key in keys)
        wants = _wants(record["wants_to_talk"])
        if session in seen:
            raise duplicate_row("ratings", client, session)
        seen.add(session)
        out.append(CheckedRating(session, held_on, instrument, total, wants, items))
    return out


def checked_sessions(records: Sequence[Mapping[str, Any]], client: str) -> dict[int, dt.date]:
    """Held sessions: the date of each, by session number."""
    out: dict[int, dt.date] = {}
    for record in records:
        session = _session_number(record["session_number"], "sessions")
        held_on = _date(record["held_on"], "sessions")
        if session in out:
            raise duplicate_row("sessions", client, session)
        out[session] = held_on
    return out


def _is_empty(value: object) -> bool:
    return value is None or value != value  # None, NaN, NaT


def _session_number(value: object, table: str) -> int:
    if type(value) is not int:
        if _is_empty(value):
            raise empty_values(table, "session_number")
        if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
            raise sessions_not_whole(table)
        if not isinstance(value, numbers.Integral) and not float(value).is_integer():
            raise sessions_not_whole(table)
        value = int(value)
    if value < 0:
        raise session_negative(table)
    return value


def _date(value: object, table: str) -> dt.date:
    """The date of a held session; a datetime's own (local) date, its time dropped."""
    if type(value) is dt.date:
        return value
    if _is_empty(value):
        raise empty_values(table, "held_on")
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, value.day)
    if isinstance(value, np.datetime64):
        return value.astype("datetime64[D]").item()
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value).date()
        except ValueError as exc:
            raise not_dates(table, exc) from None
    raise not_dates(table, f"{type(value).__name__} is not a date")


def _instrument(value: object) -> Instrument:
    if _is_empty(value):
        raise empty_values("ratings", "instrument")
    try:
        return get_instrument(value)  # type: ignore[arg-type]
    except (UnknownInstrument, TypeError):
        raise unknown_instrument(value) from None


def _total(value: object, client: str, session: int) -> float:
    if type(value) is not float:
        if value is None:
            raise total_empty(client, session)
        if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
            raise totals_not_numbers()
        value = float(value)
    if value != value:
        raise total_empty(client, session)
    return value


def _item(
    record: Mapping[str, Any], key: str, client: str, session: int, instrument: Instrument
) -> float:
    value = record.get(key)
    if type(value) is not float:
        if value is None or isinstance(value, str) or not isinstance(value, numbers.Real):
            raise item_empty(key, client, session, instrument.id)
        value = float(value)
    if value != value:
        raise item_empty(key, client, session, instrument.id)
    if value < instrument.item_min or value > instrument.item_max:
        raise item_outside(key, value, client, session, instrument)
    return value


def _wants(value: object) -> bool:
    if value is True or value is False:
        return value
    if _is_empty(value):
        raise talk_empty()
    if isinstance(value, np.bool_) or (isinstance(value, numbers.Real) and value in (0, 1)):
        return bool(value)
    raise talk_not_bool()
