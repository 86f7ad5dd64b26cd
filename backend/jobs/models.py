"""When each scheduled job is next due, who holds it now, and what every run did."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from backend.clock import utcnow
from backend.db import UTCDateTime


class ScheduledJob(SQLModel, table=True):
    """One row a job: the lease on it is how instances agree that exactly one runs it."""

    __tablename__ = "scheduled_job"

    name: str = Field(primary_key=True, max_length=40)
    next_run_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    #: Set while a run is under way; a run whose instance died is taken over once it passes.
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    #: Which claim holds the lease: "host:pid#random", new for every run.
    holder: str | None = Field(default=None, max_length=140)
    last_started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    #: "ok", or "failed: <exception type>" (never the exception's message).
    last_outcome: str | None = Field(default=None, max_length=80)


class JobRun(SQLModel, table=True):
    """One run of a job: which instance ran it and how it ended (unfinished if it died)."""

    __tablename__ = "job_run"
    __table_args__ = (Index("ix_job_run_job_started_at", "job", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=40)
    #: host:pid of the API process that ran it.
    runner: str = Field(max_length=120)
    started_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    outcome: str | None = Field(default=None, max_length=80)
