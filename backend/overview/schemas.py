from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel

from backend.clients.schemas import ClientPublic
from backend.flags.schemas import EpisodePublic, FlagPublic, RangePublic, Severity
from backend.ratings.schemas import InstrumentPublic, RatingPublic
from backend.therapy.schemas import Language, NewSessionDates, TherapySessionPublic

RepairStatus = Literal["none", "open", "repaired", "unrepaired"]


class SeverityCounts(BaseModel):
    urgent: int = 0
    warning: int = 0
    talk: int = 0
    info: int = 0


class CaseloadRow(BaseModel):
    """One client on the caseload table, with what needs attention first."""

    code: str
    status: Literal["active", "discharged"]
    therapist_id: int
    therapist_name: str
    instrument: str | None
    sessions_count: int
    ratings_count: int
    last_rated_on: date | None
    days_since_last_rating: int | None
    latest_total: float | None
    change_from_previous: float | None
    #: The last ten totals, oldest first (for a sparkline).
    recent_totals: list[float]
    open_flags: SeverityCounts
    #: The most severe open flag, or None when nothing is open.
    top_severity: Severity | None
    oldest_unacknowledged_at: datetime | None
    oldest_unacknowledged_days: int | None
    repair_status: RepairStatus
    sessions_without_rating: int
    #: The therapist's private label (therapist and supervisors only).
    label: str | None = None


class TeamWeek(BaseModel):
    """The team's mean total in one week, with a normal-approximation 95% interval."""

    week_start: date
    ratings: int
    mean_total: float
    sd_total: float | None
    ci_low: float | None
    ci_high: float | None


class TherapistWeek(BaseModel):
    therapist_id: int
    week_start: date
    sessions: int
    rated_sessions: int
    #: Mean total of the ratings on the overview's instrument; None when there were none.
    mean_total: float | None
    response_rate: float | None


class TherapistOverview(BaseModel):
    therapist_id: int
    therapist_name: str
    team_name: str | None
    active_clients: int
    sessions: int
    rated_sessions: int
    #: Rated sessions / sessions held in the period; None when no sessions were held.
    response_rate: float | None
    clients_with_warning: int
    #: Share of active clients with an open warning or urgent flag; None without clients.
    warning_share: float | None
    #: Open flags about sessions held more than 7 days ago: a week on, the next session
    #: has usually come and gone with the flag unanswered.
    unacknowledged_over_7_days: int
    episodes: int
    repaired_episodes: int
    unrepaired_episodes: int
    #: Repaired / (repaired + unrepaired) of episodes opened in the period; open ones excluded.
    repair_rate: float | None


class QueueItem(BaseModel):
    """An unrepaired rupture or an urgent open flag, by pseudonymous code only."""

    kind: Literal["episode", "flag"]
    client_code: str
    therapist_id: int
    therapist_name: str
    since: date
    severity: Severity
    status: str
    explanation: str


class TeamOverview(BaseModel):
    instrument: str
    weeks: int
    period_start: date
    team_weekly: list[TeamWeek]
    therapist_weekly: list[TherapistWeek]
    therapists: list[TherapistOverview]
    queue: list[QueueItem]
    #: The queue in two lists: requests to talk waiting, longest first; ruptures not
    #: repaired, unrepaired then open, oldest first, each with the last action taken.
    talk_requests: list[TalkRequestWaiting] = []
    ruptures: list[RuptureWaiting] = []


class ClientPage(BaseModel):
    """Everything the dashboard's client page shows, in one answer."""

    client: ClientPublic
    #: The therapist's private label; only the therapist and their supervisors read it.
    label: str | None
    latest_total: float | None
    change_from_previous: float | None
    repair_status: RepairStatus
    #: The language of the last rating link, so the next one defaults to it.
    last_link_language: Language | None
    sessions: list[TherapySessionPublic]
    #: The dates the next session may be recorded on (the date picker's bounds).
    new_session_dates: NewSessionDates
    ratings: list[RatingPublic]
    #: Most pressing first: the most severe, then the newest session.
    flags: list[FlagPublic]
    episodes: list[EpisodePublic]
    #: Per rating, the usual range scoring judged it by: what the chart draws.
    ranges: list[RangePublic]


class WordingVersionListing(BaseModel):
    """One wording of an instrument's items (``scoring.instruments.WORDING_VERSIONS``)."""

    number: int
    introduced_on: str
    #: Items that ask something else from this version on: their answers under earlier
    #: versions are not comparable with later ones.
    construct_changed: list[str]


class InstrumentListing(BaseModel):
    """A questionnaire the clinic can issue, with what the dashboard needs to draw it."""

    instrument: InstrumentPublic
    total_cutoff: float
    item_cutoff: float
    total_min: float
    total_max: float
    #: Every wording of its items, oldest first.
    wording_versions: list[WordingVersionListing]


class TalkRequestWaiting(BaseModel):
    """A client's request to talk that nobody has acted on yet."""

    client_code: str
    therapist_id: int
    therapist_name: str
    session_number: int
    held_on: date
    #: When the client asked: when they sent the rating (the session's date where that is
    #: not known), and how many whole days ago.
    waiting_since: datetime
    waiting_days: int
    explanation: str


class RuptureWaiting(BaseModel):
    """A rupture still open, or closed without repair."""

    client_code: str
    therapist_id: int
    therapist_name: str
    status: Literal["open", "unrepaired"]
    since: date
    severity: Severity
    explanation: str
    #: The therapist's latest recorded action on the client's flags since the rupture
    #: began, and when; None when nothing was recorded.
    last_action: str | None
    last_action_at: datetime | None


TeamOverview.model_rebuild()
