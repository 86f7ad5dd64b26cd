"""What scoring found, stored with the clinician's side of it (acknowledged, resolved)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.clock import utcnow
from backend.db import UTCDateTime
from scoring import vocabulary
from scoring.vocabulary import Action, EpisodeStatus, FlagStatus, Resolution, Severity, values

# The one clinical vocabulary (scoring.vocabulary) as the database's CHECK constraints.
FLAG_STATUSES = values(FlagStatus)
SEVERITIES = values(Severity)
ACTIONS = values(Action)
EPISODE_STATUSES = values(EpisodeStatus)
RESOLUTIONS = values(Resolution)
#: An action that says what the therapist means to do, not what was done: the flag stays
#: acknowledged and the therapist records what they did once it is done.
PLANNED_ACTIONS = tuple(a.value for a in vocabulary.PLANNED_ACTIONS)
#: Actions that say nothing by themselves: the note must say what was done.
ACTIONS_NEEDING_A_NOTE = tuple(a.value for a in vocabulary.ACTIONS_NEEDING_A_NOTE)
NOTE_MAX_LENGTH = 1000


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Flag(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("client_id", "session_number", "rule", "item"),
        CheckConstraint(_in("status", FLAG_STATUSES), name="status_known"),
        CheckConstraint(_in("severity", SEVERITIES), name="severity_known"),
        CheckConstraint(f"action IS NULL OR {_in('action', ACTIONS)}", name="action_known"),
        CheckConstraint(f"length(note) <= {NOTE_MAX_LENGTH}", name="note_length"),
        # Every flag query starts from the caller's clients and a status. An index on status
        # alone (four values) led SQLite to walk every open flag in the clinic instead.
        # Severity and age complete it, so counting open flags by severity and age (the
        # caseload, the team overview) and finding the urgent ones never read a flag's row.
        Index(
            "ix_flag_client_id_status_severity_created_at",
            "client_id",
            "status",
            "severity",
            "created_at",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id")
    session_number: int
    held_on: date
    instrument: str = Field(max_length=40)
    rule: str = Field(max_length=40)
    #: "" when the rule names no item, so the unique key works on every database.
    item: str = Field(default="", max_length=40)
    severity: str = Field(max_length=10)
    level: str | None = Field(default=None, max_length=20)
    explanation: str = Field(sa_column=Column(Text, nullable=False))
    guidance: str = Field(sa_column=Column(Text, nullable=False))
    evidence: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    rules_version: str = Field(max_length=20)
    status: str = Field(default="open", max_length=20)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    acknowledged_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    acknowledged_by: int | None = Field(default=None, foreign_key="user.id")
    action: str | None = Field(default=None, max_length=40)
    note: str | None = Field(default=None, max_length=NOTE_MAX_LENGTH)
    #: The plan the therapist recorded before ``action`` said what was done: its action,
    #: note and time stay beside the outcome, which has a note of its own.
    planned_action: str | None = Field(default=None, max_length=40)
    plan_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    planned_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    resolved_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    resolved_by: int | None = Field(default=None, foreign_key="user.id")
    #: "therapist", or "repaired" when the rupture episode it belongs to was repaired.
    resolution: str | None = Field(default=None, max_length=20)
    #: Why scoring no longer raises it, in words the therapist can read.
    withdrawn_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Episode(SQLModel, table=True):
    """A rupture followed until it is repaired or not."""

    __table_args__ = (
        UniqueConstraint("client_id", "instrument", "opened_session"),
        CheckConstraint(_in("status", EPISODE_STATUSES), name="status_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    instrument: str = Field(max_length=40)
    opened_session: int
    opened_on: date
    trigger_rule: str = Field(max_length=40)
    #: None when the client had no earlier ratings (e.g. a request to talk at the first session).
    pre_rupture_mean: float | None = None
    pre_rupture_sd: float | None = None
    recovery_threshold: float | None = None
    lowest_total: float
    status: str = Field(max_length=20, index=True)
    closed_session: int | None = None
    closed_on: date | None = None
    severity: str = Field(max_length=10)
    explanation: str = Field(sa_column=Column(Text, nullable=False))
    rules_version: str = Field(max_length=20)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class ClientSummary(SQLModel, table=True):
    """Scoring's per-client digest, kept so the caseload view never recomputes."""

    __tablename__ = "client_summary"

    client_id: int = Field(foreign_key="client.id", primary_key=True)
    instrument: str | None = Field(default=None, max_length=40)
    ratings_count: int = 0
    last_session_number: int | None = None
    last_held_on: date | None = None
    latest_total: float | None = None
    change_from_previous: float | None = None
    personal_mean: float | None = None
    personal_sd: float | None = None
    recent_slope: float | None = None
    recent_totals: list[float] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    repair_status: str = Field(default="none", max_length=20)
    sessions_without_rating: int = 0
    #: The client's own range at the latest rating, and how far below its mean that fell.
    usual_mean: float | None = None
    usual_sd: float | None = None
    below_usual: float | None = None
    rules_version: str = Field(max_length=20)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class ScoringCalibration(SQLModel, table=True):
    """The clinic's own week-to-week SD of a client's total, once it has enough ratings.

    Estimated by every full rescore (``rapport rescore``); while no row exists for an
    instrument, its registry default is in force.
    """

    __tablename__ = "scoring_calibration"

    instrument: str = Field(primary_key=True, max_length=40)
    within_sd: float
    ratings: int
    clients: int
    estimated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class RescoreRequest(SQLModel, table=True):
    """A client whose flags are to be recomputed: written with their rating, gone once scored.

    Kept in the database, not in memory, so that a rating committed just before a crash,
    or a pass that failed, is still scored by the next pass in whichever process runs it.
    """

    __tablename__ = "rescore_request"

    client_id: int = Field(foreign_key="client.id", primary_key=True)
    #: Drawn at random by every request for the client, so a value never comes back
    #: (a counter would restart after a pass removes the row): a pass that scored an
    #: older request leaves the newer one for the next pass.
    version: int = Field(sa_column=Column(BigInteger, nullable=False))
    requested_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
