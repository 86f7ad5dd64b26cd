"""Each client's rating history as sorted numpy arrays, the shape every rule works on.

Ratings are sorted once by (client, instrument, session); a (client, instrument) pair is
one history, because a client who switches instrument starts afresh. Group-aware helpers
(previous value, run lengths) work on the whole caseload at once, so no
rule loops over clients.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scoring.config import ScoringConfig, Thresholds
from scoring.schema import CheckedRatings, CheckedSessions

#: Totals are compared at this resolution; scaled to integers, sums over a client's
#: ratings are exact, so their numbers never depend on who was scored alongside.
TOTAL_SCALE = 100
EPS = 1e-9


@dataclass(frozen=True)
class RatingHistory:
    """Ratings sorted by (client, instrument, session), with per-history derived columns."""

    client_ids: np.ndarray  # sorted unique client ids; ``client`` indexes into it
    instrument_ids: tuple[str, ...]  # ``instrument`` indexes into it
    client: np.ndarray
    instrument: np.ndarray
    session: np.ndarray
    held_on: np.ndarray
    total: np.ndarray
    wants_to_talk: np.ndarray
    items: dict[str, np.ndarray]
    group_start: np.ndarray  # first rating of a (client, instrument) history
    group_end: np.ndarray  # last rating of a history
    group_first_index: np.ndarray  # row index of the history's first rating
    position: np.ndarray  # 0-based position within the history
    previous: np.ndarray  # previous total in the history, NaN at the start
    thresholds: tuple[Thresholds, ...]  # per instrument code

    def __len__(self) -> int:
        return len(self.total)

    def per_row(self, name: str, rows: np.ndarray | None = None) -> np.ndarray:
        """A threshold per row (each row's own instrument): of every row, or of ``rows``."""
        values = np.array([getattr(t, name) for t in self.thresholds], dtype=np.float64)
        codes = self.instrument if rows is None else self.instrument[rows]
        if len(values) == 0:
            return np.empty(len(codes))
        return values[codes]


def run_length(flags: np.ndarray, group_start: np.ndarray) -> np.ndarray:
    """Consecutive true values ending at each row, restarting at every group start."""
    n = len(flags)
    idx = np.arange(n)
    # the last row a run cannot reach back past: a false row itself, or the row before
    # a group's first
    breaks = np.where(flags & ~group_start, -1, idx - flags)
    return idx - np.maximum.accumulate(breaks) if n else idx


def history_order(client: np.ndarray, instrument: np.ndarray, session: np.ndarray) -> np.ndarray:
    """The permutation that sorts ratings by (client, instrument, session).

    The three are packed into one integer key when it fits in 63 bits (it always does for
    real session numbers): one argsort of a key is several times faster than a
    three-key lexsort. Keys are unique (one rating per client and session), so the sort
    need not be stable.
    """
    if not len(session):
        return np.zeros(0, np.int64)
    span = int(session.max()) + 1
    instruments = int(instrument.max()) + 1
    if int(client.max()) + 1 >= np.iinfo(np.int64).max // (span * instruments):
        return np.lexsort((session, instrument, client))
    return np.argsort((client * instruments + instrument) * span + session)


def build_history(
    checked: CheckedRatings,
    client_ids: np.ndarray,
    client_codes: np.ndarray,
    config: ScoringConfig,
) -> RatingHistory:
    """Sort the validated ratings once and derive the per-history columns the rules share.

    ``client_codes`` index each rating's client into the sorted ``client_ids``.
    """
    instrument_ids = tuple(sorted(checked.instrument_uniques))
    remap = np.array([instrument_ids.index(i) for i in checked.instrument_uniques], np.int64)
    instrument_codes = remap[checked.instrument_code] if len(remap) else checked.instrument_code
    order = history_order(client_codes, instrument_codes, checked.session_number)
    client = client_codes[order]
    instrument = instrument_codes[order]
    session = checked.session_number[order]
    total = checked.total[order]
    n = len(total)

    group_start = np.ones(n, dtype=bool)
    if n:
        group_start[1:] = (client[1:] != client[:-1]) | (instrument[1:] != instrument[:-1])
    group_end = np.ones(n, dtype=bool)
    if n:
        group_end[:-1] = group_start[1:]
    idx = np.arange(n)
    group_first_index = np.maximum.accumulate(np.where(group_start, idx, 0)) if n else idx
    position = idx - group_first_index

    previous = np.full(n, np.nan)
    if n:
        previous[1:] = total[:-1]
        previous[group_start] = np.nan

    thresholds = tuple(config.thresholds_for(i) for i in instrument_ids)
    return RatingHistory(
        client_ids=client_ids,
        instrument_ids=instrument_ids,
        client=client,
        instrument=instrument,
        session=session,
        held_on=checked.held_on[order],
        total=total,
        wants_to_talk=checked.wants_to_talk[order],
        items={key: values[order] for key, values in checked.items.items()},
        group_start=group_start,
        group_end=group_end,
        group_first_index=group_first_index,
        position=position,
        previous=previous,
        thresholds=thresholds,
    )


@dataclass(frozen=True)
class SessionTimeline:
    """Every session held, per client in session order, with whether it was rated.

    A rated session missing from the sessions frame is added from the ratings, so it
    still breaks a run of unrated sessions.
    """

    client: np.ndarray
    session: np.ndarray
    held_on: np.ndarray
    rated: np.ndarray
    #: Unrated and older than the grace period: the rating link has expired.
    overdue: np.ndarray
    client_start: np.ndarray


def build_timeline(
    sessions: CheckedSessions,
    checked: CheckedRatings,
    s_client: np.ndarray,
    r_client: np.ndarray,
    today: np.datetime64,
    grace_days: int,
) -> SessionTimeline:
    """Merge the sessions with the rated sessions and mark which unrated ones are overdue.

    ``s_client`` and ``r_client`` are the client codes of the session and rating rows.
    """
    span = int(max(sessions.session_number.max(initial=0), checked.session_number.max(initial=0)))
    span = span + 1
    s_key = s_client * span + sessions.session_number
    r_key = r_client * span + checked.session_number
    # Keys are unique within each frame (checked), and a rated session is nearly always
    # among the sessions: sort the sessions once and find each rating in them.
    order = np.argsort(s_key)
    keys, held = s_key[order], sessions.held_on[order]
    at = np.searchsorted(keys, r_key)
    found = at < len(keys)
    found[found] = keys[at[found]] == r_key[found]
    if not found.all():  # rated sessions the sessions frame lacks
        keys = np.concatenate((keys, r_key[~found]))
        held = np.concatenate((held, checked.held_on[~found]))
        order = np.argsort(keys)
        keys, held = keys[order], held[order]
        at = np.searchsorted(keys, r_key)
    rated = np.zeros(len(keys), bool)
    rated[at] = True
    client = keys // span
    session = keys % span
    age_days = (today - held.astype("datetime64[D]")).astype(np.int64)
    overdue = ~rated & (age_days > grace_days)
    client_start = np.ones(len(keys), dtype=bool)
    if len(keys):
        client_start[1:] = client[1:] != client[:-1]
    return SessionTimeline(client, session, held, rated, overdue, client_start)
