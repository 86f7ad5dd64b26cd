"""Jobs that run on a schedule inside the API, exactly once across all its instances.

Every API process runs a ``Scheduler`` thread that wakes every few seconds and tries to
claim each job that is due. A claim is one conditional UPDATE of the job's row (due,
and no live lease on it), so among instances racing for it exactly one row update
succeeds: PostgreSQL re-checks the condition after the winner commits, and SQLite
serialises writers. The winner holds a short lease and renews it while the job runs;
if its instance dies, the lease runs out and the next instance to look takes the job
over. No cron is needed, on PostgreSQL or on SQLite.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from backend.clock import utcnow
from backend.config import Settings
from backend.db import Database
from backend.jobs.models import JobRun, ScheduledJob

log = logging.getLogger("rapport")

_JOB: Table = ScheduledJob.__table__
_RUN: Table = JobRun.__table__
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
#: host:pid, so an operator can tell which instance ran what.
RUNNER = f"{socket.gethostname()}:{os.getpid()}"[:120]


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    every: timedelta
    run: Callable[[Database], object]


#: Clients a transaction in the scheduled rescore: it runs while the API serves, and on
#: SQLite a submission waits for the write lock while a batch is stored.
RESCORE_BATCH = 200


def _rescore_everyone(database: Database) -> None:
    from backend.flags.scoring_sync import rescore_everyone

    rescore_everyone(database=database, batch=RESCORE_BATCH)


def _score_leftovers(database: Database) -> None:
    from backend.flags.rescore_queue import catch_up

    catch_up(database)


def _retention(years: int) -> Callable[[Database], object]:
    def run(database: Database) -> None:
        from backend.clients.erasure import apply_retention

        apply_retention(database=database, years=years)

    return run


def scheduled_jobs(settings: Settings) -> tuple[Job, ...]:
    """Every job Rapport runs by itself, with its cadence from the settings."""
    retention = (
        ()
        if settings.retention_years is None
        else (
            Job(
                name="retention",
                description=(
                    f"Erase clients discharged more than {settings.retention_years} years ago"
                ),
                every=timedelta(days=1),
                run=_retention(settings.retention_years),
            ),
        )
    )
    return (
        Job(
            name="rescore-everyone",
            description="Recompute every client's flags (missing-rating flags depend on the date)",
            every=timedelta(minutes=settings.rescore_every_minutes),
            run=_rescore_everyone,
        ),
        Job(
            name="score-leftovers",
            description="Score ratings that a failed scoring pass left queued",
            every=timedelta(minutes=5),
            run=_score_leftovers,
        ),
        *retention,
    )


@dataclass(frozen=True)
class _Claim:
    token: str
    run_id: int
    started_at: datetime


class Scheduler:
    """Claims and runs due jobs on a background thread until ``stop``."""

    def __init__(
        self,
        database: Database,
        jobs: tuple[Job, ...],
        *,
        check_every: timedelta,
        lease: timedelta,
        runner: str = RUNNER,
    ) -> None:
        self.database = database
        self.jobs = jobs
        self.check_every = check_every
        self.lease = lease
        self.runner = runner
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="rapport-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.run_due()
            except Exception as failure:  # the database is away: try again next time
                log.warning("Scheduled jobs not checked (%s).", type(failure).__name__)
            self._stopping.wait(self.check_every.total_seconds())

    def run_due(self) -> list[str]:
        """Run, one after another, each job that is due and that this process claims."""
        self._register()
        ran = []
        for job in self.jobs:
            if self._stopping.is_set():
                break
            claim = self._claim(job)
            if claim is not None:
                self._run(job, claim)
                ran.append(job.name)
        return ran

    def _register(self) -> None:
        """A row for every job, due now if new."""
        with self.database.writing() as db:
            upsert = _INSERTS[db.get_bind().dialect.name](_JOB)
            db.execute(
                upsert.values(
                    [{"name": job.name, "next_run_at": utcnow()} for job in self.jobs]
                ).on_conflict_do_nothing(index_elements=[_JOB.c.name])
            )

    def _claim(self, job: Job) -> _Claim | None:
        token = f"{self.runner}#{secrets.token_hex(4)}"
        with self.database.writing() as db:
            # The clock is read once the write lock is ours: read before it, an instance
            # that waited while another ran the job would find the new next_run_at "later
            # than the cadence allows" and run it again.
            now = utcnow()
            claimed = db.execute(
                update(_JOB)
                .where(
                    _JOB.c.name == job.name,
                    # Due, or due later than the cadence allows (its interval was shortened).
                    or_(_JOB.c.next_run_at <= now, _JOB.c.next_run_at > now + job.every),
                    or_(_JOB.c.lease_until.is_(None), _JOB.c.lease_until <= now),
                )
                .values(lease_until=now + self.lease, holder=token, last_started_at=now)
            ).rowcount
            if claimed != 1:
                return None
            run_id = db.execute(
                insert(_RUN)
                .values(job=job.name, runner=self.runner, started_at=now)
                .returning(_RUN.c.id)
            ).scalar_one()
        return _Claim(token=token, run_id=run_id, started_at=now)

    def _run(self, job: Job, claim: _Claim) -> None:
        done = threading.Event()
        keeper = threading.Thread(
            target=self._keep_lease, args=(claim, done), name="rapport-jobs-lease", daemon=True
        )
        keeper.start()
        try:
            job.run(self.database)
            outcome = "ok"
        except Exception as failure:
            outcome = f"failed: {type(failure).__name__}"[:80]
            log.warning("Scheduled job %s failed (%s).", job.name, type(failure).__name__)
        finally:
            done.set()
            keeper.join()
        finished = utcnow()
        with self.database.writing() as db:
            db.execute(
                update(_JOB)
                .where(_JOB.c.name == job.name, _JOB.c.holder == claim.token)
                .values(
                    lease_until=None,
                    holder=None,
                    next_run_at=max(claim.started_at + job.every, finished),
                    last_finished_at=finished,
                    last_outcome=outcome,
                )
            )
            db.execute(
                update(_RUN)
                .where(_RUN.c.id == claim.run_id)
                .values(finished_at=finished, outcome=outcome)
            )

    def _keep_lease(self, claim: _Claim, done: threading.Event) -> None:
        """Renew the lease while the job runs, so nobody takes over a live run."""
        while not done.wait(self.lease.total_seconds() / 3):
            try:
                with self.database.writing() as db:
                    db.execute(
                        update(_JOB)
                        .where(_JOB.c.holder == claim.token)
                        .values(lease_until=utcnow() + self.lease)
                    )
            except Exception as failure:
                log.warning("Scheduled job lease not renewed (%s).", type(failure).__name__)


@dataclass(frozen=True)
class JobStatus:
    name: str
    description: str
    every: timedelta
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_outcome: str | None
    next_run_at: datetime | None
    running: bool


def job_statuses(database: Database, jobs: tuple[Job, ...]) -> list[JobStatus]:
    """Each job with its last and next run (None before any instance has registered it)."""
    with database.reading() as db:
        rows = {row.name: row for row in db.execute(select(_JOB)).all()}
    now = utcnow()
    statuses = []
    for job in jobs:
        row = rows.get(job.name)
        statuses.append(
            JobStatus(
                name=job.name,
                description=job.description,
                every=job.every,
                last_started_at=row.last_started_at if row else None,
                last_finished_at=row.last_finished_at if row else None,
                last_outcome=row.last_outcome if row else None,
                next_run_at=row.next_run_at if row else None,
                running=bool(row and row.lease_until and row.lease_until > now),
            )
        )
    return statuses
