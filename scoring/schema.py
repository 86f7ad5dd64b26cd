"""The input contract of the scoring library, defined once.

The backend hands scoring two frames: every rating a client gave (``ratings``) and every
therapy session that was held, rated or not (``sessions``). This module names their
columns and checks them, so a malformed frame fails loudly with a message that says what
is wrong instead of producing quietly wrong flags.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.instruments import Instrument, UnknownInstrument, get_instrument


class ScoringInputError(ValueError):
    """A ratings or sessions frame does not meet the input contract; the message names why."""


# Each refusal is worded once here: the caseload path (DataFrames) and the one-client path
# (``scoring.one_client``, records) raise the same message for the same defect.


def missing_columns(table: str, columns: list[str]) -> ScoringInputError:
    return ScoringInputError(f"{table} is missing column(s): {', '.join(columns)}")


def empty_values(table: str, column: str) -> ScoringInputError:
    return ScoringInputError(f"{table}.{column} has empty values")


def ids_not_strings(table: str) -> ScoringInputError:
    return ScoringInputError(f"{table}.client_id must be strings")


def sessions_not_whole(table: str) -> ScoringInputError:
    return ScoringInputError(f"{table}.session_number must be whole numbers")


def session_negative(table: str) -> ScoringInputError:
    return ScoringInputError(f"{table}.session_number must not be negative")


def not_dates(table: str, reason: object) -> ScoringInputError:
    return ScoringInputError(f"{table}.held_on must hold dates ({reason})")


def totals_not_numbers() -> ScoringInputError:
    return ScoringInputError("ratings.total must be numbers")


def total_empty(client: object, session: object) -> ScoringInputError:
    return ScoringInputError(f"ratings.total is empty for client {client} session {session}")


def total_outside(
    total: float, client: object, session: object, instrument: Instrument
) -> ScoringInputError:
    lo, hi = instrument.total_min, instrument.total_max
    return ScoringInputError(
        f"ratings.total {total:g} for client {client} session {session} "
        f"is outside {lo:g}..{hi:g} for {instrument.id}"
    )


def talk_empty() -> ScoringInputError:
    return ScoringInputError("ratings.wants_to_talk has empty values; use true or false")


def talk_not_bool() -> ScoringInputError:
    return ScoringInputError("ratings.wants_to_talk must be true or false")


def unknown_instrument(instrument_id: object) -> ScoringInputError:
    return ScoringInputError(f"ratings.instrument {instrument_id!r} is unknown")


def item_column_missing(key: str, instrument_id: str) -> ScoringInputError:
    return ScoringInputError(
        f"ratings is missing item column {key!r} needed for {instrument_id} rows"
    )


def item_empty(key: str, client: object, session: object, instrument_id: str) -> ScoringInputError:
    return ScoringInputError(
        f"item {key!r} is empty for client {client} session {session} "
        f"({instrument_id}); score only complete forms"
    )


def item_outside(
    key: str, value: float, client: object, session: object, instrument: Instrument
) -> ScoringInputError:
    return ScoringInputError(
        f"item {key!r} is {value:g} for client {client} session "
        f"{session}, outside {instrument.item_min:g}..{instrument.item_max:g}"
    )


def duplicate_row(table: str, client: object, session: object) -> ScoringInputError:
    return ScoringInputError(f"{table} has more than one row for client {client} session {session}")


@dataclass(frozen=True)
class RatingsContract:
    """Columns of the ratings frame: one row per rating, in any order.

    Besides these, one float column per item key of every instrument present in the frame
    (``relationship``, ``goals``... for alliance4; ``wai_1``..``wai_12`` for wai12). An item
    column may be absent when no row uses its instrument, and is NaN on rows of other
    instruments. A NaN item on a row of its own instrument is an error, not a guess: a
    partially answered form cannot be scored like a complete one.
    ``comment`` (str or null) is optional and is passed through untouched by the rules.
    """

    client_id: str = "client_id"
    session_number: str = "session_number"
    held_on: str = "held_on"
    instrument: str = "instrument"
    total: str = "total"
    wants_to_talk: str = "wants_to_talk"

    @property
    def required(self) -> tuple[str, ...]:
        return (
            self.client_id,
            self.session_number,
            self.held_on,
            self.instrument,
            self.total,
            self.wants_to_talk,
        )


@dataclass(frozen=True)
class SessionsContract:
    """Columns of the sessions frame: every therapy session held, rated or not."""

    client_id: str = "client_id"
    session_number: str = "session_number"
    held_on: str = "held_on"

    @property
    def required(self) -> tuple[str, ...]:
        return (self.client_id, self.session_number, self.held_on)


RATINGS = RatingsContract()
SESSIONS = SessionsContract()


def empty_sessions() -> pd.DataFrame:
    """A sessions frame with no rows, for callers that only have ratings."""
    return pd.DataFrame(
        {
            "client_id": pd.Series([], dtype=object),
            "session_number": pd.Series([], dtype="int64"),
            "held_on": pd.Series([], dtype="datetime64[ns]"),
        }
    )


def _require_columns(frame: object, name: str, columns: tuple[str, ...]) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise ScoringInputError(f"{name} must be a pandas DataFrame, not {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise missing_columns(name, missing)
    return frame


def _labels(
    col: pd.Series, table: str, column: str, *, strings: bool
) -> tuple[np.ndarray, np.ndarray]:
    """A text column factorised: (codes per row, uniques), or ``ScoringInputError``.

    A string-typed column is factorised as it is (Arrow's dictionary encoding), without
    first making a Python object per row: a third of a 1M-rating rescore went there.
    ``strings`` also rejects non-text values (client ids); an instrument that is not text
    is reported as unknown instead.
    """
    if isinstance(col.dtype, pd.StringDtype):
        if col.isna().any():
            raise empty_values(table, column)
        return _factorize(col)
    values = col.to_numpy(dtype=object)
    if pd.isna(values).any():
        raise empty_values(table, column)
    if strings and pd.api.types.infer_dtype(values, skipna=False) not in ("string", "empty"):
        raise ids_not_strings(table)
    return _factorize(values)


def _session_numbers(col: pd.Series, name: str) -> np.ndarray:
    if col.dtype.kind not in "iu" and pd.isna(col.to_numpy()).any():
        raise empty_values(name, "session_number")
    if pd.api.types.is_bool_dtype(col):
        raise sessions_not_whole(name)
    if not pd.api.types.is_numeric_dtype(col):
        try:
            col = pd.to_numeric(col)
        except (TypeError, ValueError):
            raise sessions_not_whole(name) from None
    values = col.to_numpy()
    if values.dtype.kind == "f" and not np.all(values == np.round(values)):
        raise sessions_not_whole(name)
    values = values.astype(np.int64)
    if (values < 0).any():
        raise session_negative(name)
    return values


def _dates(col: pd.Series, name: str) -> np.ndarray:
    """Dates as datetime64[ns] at midnight; a date-only contract, so the time is dropped."""
    if isinstance(col.dtype, np.dtype) and col.dtype.kind == "M":
        raw = col.to_numpy()
    elif pd.api.types.is_datetime64_any_dtype(col):  # timezone-aware: keep the local date
        raw = col.dt.tz_localize(None).to_numpy()
    else:
        try:
            raw = pd.to_datetime(col).to_numpy()
        except (TypeError, ValueError) as exc:
            raise not_dates(name, exc) from None
    if np.isnat(raw).any():
        raise empty_values(name, "held_on")
    return raw.astype("datetime64[D]").astype("datetime64[ns]")


def _first_duplicate(
    client_uniques: np.ndarray, codes: np.ndarray, sessions: np.ndarray
) -> tuple[str, int] | None:
    key = codes * (int(sessions.max()) - int(sessions.min()) + 1) + (sessions - sessions.min())
    dup = pd.Index(key).duplicated()
    if not dup.any():
        return None
    i = int(np.flatnonzero(dup)[0])
    return str(client_uniques[codes[i]]), int(sessions[i])


@dataclass(frozen=True)
class CheckedRatings:
    """The ratings frame as validated numpy columns, in the caller's row order.

    Text columns are kept factorised (codes into uniques); an instrument's text per row
    is only made when asked for.
    """

    session_number: np.ndarray
    held_on: np.ndarray
    total: np.ndarray
    wants_to_talk: np.ndarray
    items: dict[str, np.ndarray]
    client_code: np.ndarray
    client_uniques: np.ndarray
    instrument_code: np.ndarray
    instrument_uniques: tuple[str, ...]

    @property
    def instrument(self) -> np.ndarray:
        return np.asarray(self.instrument_uniques, dtype=object)[self.instrument_code]


@dataclass(frozen=True)
class CheckedSessions:
    """The sessions frame as validated numpy columns, in the caller's row order."""

    session_number: np.ndarray
    held_on: np.ndarray
    client_code: np.ndarray
    client_uniques: np.ndarray


def _factorize(values: np.ndarray | pd.Series) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def check_ratings(ratings: pd.DataFrame) -> CheckedRatings:
    """Validate the ratings frame against the contract or raise ``ScoringInputError``."""
    frame = _require_columns(ratings, "ratings", RATINGS.required)
    client_code, client_uniques = _labels(
        frame[RATINGS.client_id], "ratings", "client_id", strings=True
    )
    sessions = _session_numbers(frame[RATINGS.session_number], "ratings")
    held_on = _dates(frame[RATINGS.held_on], "ratings")
    instrument_code, instrument_uniques = _labels(
        frame[RATINGS.instrument], "ratings", "instrument", strings=False
    )

    def client(i: int) -> str:
        return client_uniques[client_code[i]]

    total_col = frame[RATINGS.total]
    if pd.api.types.is_bool_dtype(total_col):
        raise totals_not_numbers()
    if not pd.api.types.is_numeric_dtype(total_col):
        try:
            total_col = pd.to_numeric(total_col)
        except (TypeError, ValueError):
            raise totals_not_numbers() from None
    total = total_col.to_numpy(dtype=np.float64)
    if np.isnan(total).any():
        i = int(np.flatnonzero(np.isnan(total))[0])
        raise total_empty(client(i), sessions[i])
    talk_col = frame[RATINGS.wants_to_talk]
    if talk_col.dtype == np.bool_:
        wants = talk_col.to_numpy()
    elif pd.isna(talk_col.to_numpy(dtype=object)).any():
        raise talk_empty()
    else:
        uniques = set(pd.unique(talk_col).tolist())
        if not uniques <= {True, False}:
            raise talk_not_bool()
        wants = talk_col.to_numpy().astype(bool)

    items: dict[str, np.ndarray] = {}
    for instrument_id in instrument_uniques.tolist():
        try:
            instrument = get_instrument(instrument_id)
        except UnknownInstrument:
            raise unknown_instrument(instrument_id) from None
        rows = instrument_code == instrument_uniques.tolist().index(instrument_id)
        lo, hi = instrument.total_min, instrument.total_max
        bad_total = rows & ((total < lo) | (total > hi))
        if bad_total.any():
            i = int(np.flatnonzero(bad_total)[0])
            raise total_outside(total[i], client(i), sessions[i], instrument)
        for key in instrument.item_keys:
            if key not in frame.columns:
                raise item_column_missing(key, instrument_id)
            if key not in items:
                items[key] = frame[key].to_numpy(dtype=np.float64)
            values = items[key]
            empty = rows & np.isnan(values)
            if empty.any():
                i = int(np.flatnonzero(empty)[0])
                raise item_empty(key, client(i), sessions[i], instrument_id)
            outside = rows & ((values < instrument.item_min) | (values > instrument.item_max))
            if outside.any():
                i = int(np.flatnonzero(outside)[0])
                raise item_outside(key, values[i], client(i), sessions[i], instrument)
    if len(sessions):
        dup = _first_duplicate(client_uniques, client_code, sessions)
        if dup is not None:
            raise duplicate_row("ratings", *dup)
    return CheckedRatings(
        session_number=sessions,
        held_on=held_on,
        total=total,
        wants_to_talk=wants,
        items=items,
        client_code=client_code,
        client_uniques=client_uniques,
        instrument_code=instrument_code,
        instrument_uniques=tuple(instrument_uniques.tolist()),
    )


def check_sessions(sessions: pd.DataFrame) -> CheckedSessions:
    """Validate the sessions frame against the contract or raise ``ScoringInputError``."""
    frame = _require_columns(sessions, "sessions", SESSIONS.required)
    client_code, client_uniques = _labels(
        frame[SESSIONS.client_id], "sessions", "client_id", strings=True
    )
    numbers = _session_numbers(frame[SESSIONS.session_number], "sessions")
    held_on = _dates(frame[SESSIONS.held_on], "sessions")
    if len(numbers):
        dup = _first_duplicate(client_uniques, client_code, numbers)
        if dup is not None:
            raise duplicate_row("sessions", *dup)
    return CheckedSessions(
        session_number=numbers,
        held_on=held_on,
        client_code=client_code,
        client_uniques=client_uniques,
    )
