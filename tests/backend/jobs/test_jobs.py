"""Scheduled jobs run inside the API, once across instances, and survive an instance dying."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from backend.cli import app
from backend.clock import today, utcnow
from backend.config import Settings
from backend.flags.models import ClientSummary
from backend.jobs.models import JobRun, ScheduledJob
from backend.jobs.schedule import Job, Scheduler, scheduled_jobs
from tests.backend.factories import make_client, make_session_with_link, make_user

LEASE = timedelta(seconds=60)


def counting_job(calls: list[str], *, every: timedelta = timedelta(hours=1), fails=False) -> Job:
    def run(_database) -> None:
        calls.append("ran")
        if fails:
            raise ValueError("a message that must not be stored")

    return Job(name="count", description="counts its runs", every=every, run=run)


def instance(db, job: Job, runner: str) -> Scheduler:
    return Scheduler(db, (job,), check_every=timedelta(seconds=1), lease=LEASE, runner=runner)


def runs(db) -> list[JobRun]:
    with db.reading() as session:
        return list(session.exec(select(JobRun).order_by(JobRun.id)).scalars())


def job_row(db) -> ScheduledJob:
    with db.reading() as session:
        return session.get(ScheduledJob, "count")


def move(db, **values) -> None:
    with db.writing() as session:
        session.execute(update(ScheduledJob).where(ScheduledJob.name == "count").values(**values))


@pytest.mark.postgres
def test_two_instances_checking_at_the_same_moment_run_a_due_job_once(db) -> None:
    calls: list[str] = []
    job = counting_job(calls)
    instances = [instance(db, job, "a:1"), instance(db, job, "b:2")]
    instances[0].run_due()  # registers the job; due at once, so "a" runs it
    move(db, next_run_at=utcnow() - timedelta(seconds=1))
    start = threading.Barrier(len(instances))

    def check(scheduler: Scheduler) -> None:
        start.wait()
        scheduler.run_due()

    threads = [threading.Thread(target=check, args=(s,)) for s in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == ["ran", "ran"]
    assert [run.outcome for run in runs(db)] == ["ok", "ok"]


@pytest.mark.postgres
def test_a_job_that_ran_is_not_run_again_before_its_interval(db) -> None:
    calls: list[str] = []
    job = counting_job(calls, every=timedelta(hours=24))
    assert instance(db, job, "a:1").run_due() == ["count"]
    assert instance(db, job, "b:2").run_due() == []
    row = job_row(db)
    assert row.next_run_at - row.last_started_at == timedelta(hours=24)
    assert row.lease_until is None and row.last_outcome == "ok"


@pytest.mark.postgres
def test_a_run_whose_instance_died_is_taken_over_once_its_lease_runs_out(db) -> None:
    calls: list[str] = []
    job = counting_job(calls)
    dying = instance(db, job, "a:1")
    dying._register()
    assert dying._claim(job) is not None  # claimed, then the process is killed
    survivor = instance(db, job, "b:2")
    assert survivor.run_due() == []  # the lease is still live
    move(db, lease_until=utcnow() - timedelta(seconds=1))
    assert survivor.run_due() == ["count"]
    assert [(run.runner, run.outcome) for run in runs(db)] == [("a:1", None), ("b:2", "ok")]


@pytest.mark.postgres
def test_a_failed_run_records_the_exception_type_only_and_waits_for_its_next_time(db) -> None:
    calls: list[str] = []
    job = counting_job(calls, fails=True)
    scheduler = instance(db, job, "a:1")
    assert scheduler.run_due() == ["count"]
    assert job_row(db).last_outcome == "failed: ValueError"
    assert runs(db)[0].outcome == "failed: ValueError"
    assert scheduler.run_due() == []


def test_shortening_the_interval_makes_a_job_due_at_once(db) -> None:
    calls: list[str] = []
    instance(db, counting_job(calls, every=timedelta(days=7)), "a:1").run_due()
    assert instance(db, counting_job(calls, every=timedelta(hours=1)), "a:1").run_due() == ["count"]


@pytest.mark.postgres
def test_the_daily_rescore_scores_every_client_without_cron(db) -> None:
    therapist = make_user(db)
    client = make_client(db, therapist)
    for weeks_ago in (3, 2, 1):
        make_session_with_link(db, client, held_on=today() - timedelta(weeks=weeks_ago))
    settings = Settings(mode="dev", rescore_every_minutes=1440)
    jobs = scheduled_jobs(settings)
    rescore = next(job for job in jobs if job.name == "rescore-everyone")
    assert rescore.every == timedelta(days=1)
    Scheduler(db, (rescore,), check_every=timedelta(seconds=1), lease=LEASE).run_due()
    with db.reading() as session:
        summary = session.get(ClientSummary, client.id)
    assert summary is not None and summary.sessions_without_rating > 0


def test_rapport_jobs_lists_each_job_with_its_last_and_next_run(db) -> None:
    result = CliRunner().invoke(app, ["jobs"])
    assert result.exit_code == 0, result.output
    assert "rescore-everyone  every 1 day" in result.output
    assert "never run" in result.output
    Scheduler(db, scheduled_jobs(Settings(mode="dev")), check_every=LEASE, lease=LEASE).run_due()
    listed = CliRunner().invoke(app, ["jobs"]).output
    assert "never run" not in listed and ", ok" in listed
