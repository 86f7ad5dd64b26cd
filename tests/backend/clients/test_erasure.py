"""A client's right to erasure: everything of theirs goes, in one transaction; the
tombstone (code, who, when, why) stays; the code is never issued again."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from typer.testing import CliRunner

from backend.audit.models import AuditEvent
from backend.cli import app as cli
from backend.clients import service as clients_service
from backend.clients.erasure import apply_retention, years_before
from backend.clients.models import Client, ClientErasure
from backend.config import get_settings
from backend.db import Database
from backend.flags.models import RescoreRequest
from backend.models import metadata
from backend.therapy.models import TherapySession
from tests.backend.factories import (
    make_client,
    make_session_with_link,
    ruptured,
    signed_in,
)

COMMENT = "Comment-7f3a: my boss is called Dana"
NOTE = "Note-91bc: talked about the holiday"
#: Tables a client's code may still appear in after erasure, and why.
KEEPS_THE_CODE = {"audit_event", "client_erasure"}
sqlite_only = pytest.mark.parametrize("migrated_database", ["sqlite"], indirect=True)


def full_history(api, db, therapist):
    """A client with every kind of row: sessions, links, ratings with a comment, flags with
    a note, an episode, a summary and an unused link."""
    client = ruptured(api, db, therapist, comment=COMMENT, note=NOTE)
    make_session_with_link(db, client)  # a link the client has not used yet
    return client


def queue_rescore(db, *clients) -> None:
    """Queued last: a later rating's scoring pass would take it."""
    with db.writing() as session:
        session.add_all(RescoreRequest(client_id=c.id, version=7) for c in clients)


def rows_of_client(db: Database, client_id: int) -> dict[str, int]:
    """Rows per table that reference the client, directly or through a session."""
    found: dict[str, int] = {}
    with db.reading() as session:
        session_ids = session.exec(
            select(TherapySession.id).where(TherapySession.client_id == client_id)
        ).all()
        for table in metadata.sorted_tables:
            conditions = []
            if table.name == "client":
                conditions.append(table.c.id == client_id)
            for foreign_key in table.foreign_keys:
                target = foreign_key.column.table.name
                if target == "client":
                    conditions.append(foreign_key.parent == client_id)
                elif target == "therapy_session" and session_ids:
                    conditions.append(foreign_key.parent.in_(session_ids))
            for condition in conditions:
                count = len(session.execute(sa_select(table).where(condition)).all())
                if count:
                    found[table.name] = found.get(table.name, 0) + count
    return found


def tables_mentioning(db: Database, *needles: str) -> dict[str, list[str]]:
    """Every table whose rows hold any of these strings, in any column."""
    found: dict[str, list[str]] = {}
    with db.reading() as session:
        for table in metadata.sorted_tables:
            for row in session.execute(sa_select(table)).mappings():
                text = json.dumps(dict(row), default=str)
                for needle in needles:
                    if needle in text:
                        found.setdefault(table.name, []).append(needle)
    return found


def erase(api, who, code: str, *, confirm: str | None = None, reason: str = "Client asked"):
    body = {"reason": reason, "confirm_code": code if confirm is None else confirm}
    return api.post(f"/api/clients/{code}/erasure", json=body, headers=who.headers)


def test_erasure_leaves_nothing_of_the_client_but_the_tombstone(api, db) -> None:
    therapist, admin = signed_in(db), signed_in(db, role="admin")
    client = full_history(api, db, therapist)
    kept = full_history(api, db, therapist)
    queue_rescore(db, client, kept)
    before = rows_of_client(db, client.id)
    assert set(before) >= {
        "client",
        "therapy_session",
        "rating_link",
        "rating",
        "flag",
        "episode",
        "client_summary",
        "rescore_request",
    }
    kept_before = rows_of_client(db, kept.id)

    response = erase(api, admin, client.code.lower(), confirm=client.code.lower())

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == client.code and body["reason"] == "Client asked"
    assert {t: n for t, n in body["deleted"].items() if n} == before
    assert rows_of_client(db, client.id) == {}
    assert set(tables_mentioning(db, client.code)) == KEEPS_THE_CODE
    # The other client's comment and note are still there; the erased client's are gone.
    assert set(tables_mentioning(db, COMMENT, NOTE)) == {"rating", "flag"}
    assert rows_of_client(db, kept.id) == kept_before
    with db.reading() as session:
        tombstone = session.get(ClientErasure, client.code)
        assert (tombstone.erased_by, tombstone.reason) == (admin.id, "Client asked")
        assert (
            session.exec(
                select(AuditEvent).where(
                    AuditEvent.client_code == client.code, AuditEvent.action == "erase_client"
                )
            )
            .one()
            .actor_id
            == admin.id
        )
    for path in ("export.fhir.json", "report.pdf", "flags"):
        assert (
            api.get(f"/api/clients/{client.code}/{path}", headers=admin.headers).status_code == 404
        )
        assert (
            api.get(f"/api/clients/{client.code}/{path}", headers=therapist.headers).status_code
            == 404
        )


def test_audit_rows_of_an_erased_client_hold_nothing_but_ids_and_the_code(api, db) -> None:
    therapist, admin = signed_in(db), signed_in(db, role="admin")
    client = full_history(api, db, therapist)
    api.get(f"/api/clients/{client.code}/ratings", headers=therapist.headers)
    api.get(f"/api/clients/{client.code}/export.fhir.json", headers=admin.headers)
    erase(api, admin, client.code)
    with db.reading() as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.client_code == client.code))
        object_ids = {event.object_id for event in events}
    # Flag ids and session numbers name rows that are gone, exports name what was
    # exported; nothing the client said.
    named = {o.split(":")[0] for o in object_ids if o}
    assert "fhir bundle" in named
    assert named <= {"flag", "session", "fhir bundle"}, object_ids


@sqlite_only
@pytest.mark.parametrize(
    ("role", "confirm", "reason", "status"),
    [
        ("admin", "WRONG-CODE", "Client asked", 422),
        ("admin", "", "Client asked", 422),
        ("admin", None, "  ", 422),
        ("therapist", None, "Client asked", 403),
        ("supervisor", None, "Client asked", 403),
    ],
)
def test_erasure_refuses_without_the_typed_code_a_reason_or_an_admin(
    api, db, role, confirm, reason, status
) -> None:
    therapist = signed_in(db)
    who = {"therapist": therapist, "admin": signed_in(db, role="admin")}.get(role) or signed_in(
        db, role="supervisor"
    )
    client = full_history(api, db, therapist)
    before = rows_of_client(db, client.id)

    response = erase(api, who, client.code, confirm=confirm, reason=reason)

    assert response.status_code == status
    assert response.json()["detail"]
    assert rows_of_client(db, client.id) == before
    with db.reading() as session:
        assert session.get(ClientErasure, client.code) is None


@sqlite_only
def test_an_erased_clients_code_is_never_issued_again(api, db, monkeypatch) -> None:
    therapist, admin = signed_in(db), signed_in(db, role="admin")
    erased = make_client(db, therapist)
    erase(api, admin, erased.code)
    drawn = iter([erased.code, "NEWC-0DE2"])
    monkeypatch.setattr(clients_service, "new_client_code", lambda: next(drawn))

    response = api.post("/api/clients", json={"therapist_id": therapist.id}, headers=admin.headers)

    assert response.status_code == 201
    assert response.json()["code"] == "NEWC-0DE2"


# Retention ---------------------------------------------------------------------------

runner = CliRunner()
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def discharged(db, therapist, *, years_ago: float | None):
    client = make_client(db, therapist, status="discharged")
    with db.writing() as session:
        row = session.get(Client, client.id)
        row.discharged_at = None if years_ago is None else NOW - timedelta(days=365.25 * years_ago)
        session.add(row)
    make_session_with_link(db, client)
    return client


def test_discharging_records_the_date_and_reactivating_clears_it(api, db) -> None:
    therapist = signed_in(db)
    client = make_client(db, therapist)
    path = f"/api/clients/{client.code}"
    api.patch(path, json={"status": "discharged"}, headers=therapist.headers)
    with db.reading() as session:
        assert session.get(Client, client.id).discharged_at is not None
    api.patch(path, json={"status": "active"}, headers=therapist.headers)
    with db.reading() as session:
        assert session.get(Client, client.id).discharged_at is None


def test_retention_erases_clients_discharged_longer_ago_than_the_setting(db) -> None:
    therapist = signed_in(db)
    old = discharged(db, therapist, years_ago=3)
    recent = discharged(db, therapist, years_ago=1)
    undated = discharged(db, therapist, years_ago=None)
    active = make_client(db, therapist)

    dry = apply_retention(database=db, years=2, now=NOW, dry_run=True)
    assert [code for code, _ in dry.due] == [old.code] and dry.erased == []
    assert rows_of_client(db, old.id)  # a dry run changes nothing

    run = apply_retention(database=db, years=2, now=NOW)
    assert run.erased == [old.code] and run.undated == 1
    assert rows_of_client(db, old.id) == {}
    for kept in (recent, undated, active):
        assert rows_of_client(db, kept.id)
    with db.reading() as session:
        tombstone = session.get(ClientErasure, old.code)
    assert tombstone.erased_by is None and "2 years" in tombstone.reason

    again = apply_retention(database=db, years=2, now=NOW)
    assert again.due == [] and again.erased == []


@sqlite_only
def test_rapport_retention_is_off_by_default_and_dry_run_prints_what_it_would_do(
    db, monkeypatch
) -> None:
    therapist = signed_in(db)
    old = discharged(db, therapist, years_ago=30)
    off = runner.invoke(cli, ["retention"])
    assert off.exit_code == 0, off.output
    assert "RAPPORT_RETENTION_YEARS" in off.output
    monkeypatch.setattr(get_settings(), "retention_years", 10)

    dry = runner.invoke(cli, ["retention", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"Would erase {old.code}" in dry.output
    assert rows_of_client(db, old.id)

    done = runner.invoke(cli, ["retention"])
    assert f"Erased {old.code}" in done.output
    assert rows_of_client(db, old.id) == {}
    assert "Nobody to erase" in runner.invoke(cli, ["retention"]).output


@pytest.mark.parametrize(
    ("moment", "years", "expected"),
    [
        (datetime(2026, 12, 1, tzinfo=UTC), 5, datetime(2021, 12, 1, tzinfo=UTC)),
        (datetime(2028, 2, 29, tzinfo=UTC), 1, datetime(2027, 2, 28, tzinfo=UTC)),
    ],
)
def test_years_before_counts_calendar_years(moment, years, expected) -> None:
    assert years_before(moment, years) == expected


def test_a_tombstone_keeps_nothing_but_code_who_when_and_why() -> None:
    assert set(ClientErasure.__table__.columns.keys()) == {
        "code",
        "erased_by",
        "erased_at",
        "reason",
    }
    assert col(ClientErasure.code).primary_key


def test_retention_is_a_scheduled_job_only_when_it_is_set() -> None:
    from backend.config import Settings
    from backend.jobs.schedule import scheduled_jobs

    names = {job.name for job in scheduled_jobs(Settings(mode="dev"))}
    assert "retention" not in names
    names = {job.name for job in scheduled_jobs(Settings(mode="dev", retention_years=7))}
    assert "retention" in names
