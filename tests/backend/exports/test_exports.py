"""What leaves Rapport: FHIR bundles, caseload CSVs and the printed report."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader
from sqlmodel import col, select

from backend.audit.models import AuditEvent
from backend.clients.models import Client
from backend.demo import load_demo
from backend.exports.spreadsheet import csv_text, neutralised
from backend.ratings.models import Rating
from backend.therapy.models import TherapySession
from backend.users.models import User
from scoring.instruments import get_instrument
from tests.backend.factories import (
    alliance4,
    make_client,
    make_user,
    rate,
    rated_history,
    ruptured,
    sign_in_as,
    signed_in,
)

sqlite_only = pytest.mark.parametrize("migrated_database", ["sqlite"], indirect=True)


def bundle_of(api, who, code: str) -> Bundle:
    response = api.get(f"/api/clients/{code}/export.fhir.json", headers=who.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/fhir+json"
    return Bundle.model_validate_json(response.content)


def answers_by_session(bundle: Bundle) -> dict[int, dict[str, object]]:
    """Each QuestionnaireResponse read back as {item linkId: answer value}."""
    read: dict[int, dict[str, object]] = {}
    for entry in bundle.entry:
        resource = entry.resource
        if resource.get_resource_type() != "QuestionnaireResponse":
            continue
        assert resource.status == "completed"
        number = int(resource.identifier.value.rsplit("/", 1)[1])
        read[number] = {
            item.linkId: next(
                value
                for value in (
                    item.answer[0].valueDecimal,
                    item.answer[0].valueString,
                    item.answer[0].valueBoolean,
                )
                if value is not None
            )
            for item in resource.item
        }
    return read


def stored_ratings(db, code: str) -> dict[int, Rating]:
    with db.reading() as session:
        return {
            ts.session_number: rating
            for rating, ts in session.exec(
                select(Rating, TherapySession)
                .join(TherapySession, col(TherapySession.id) == Rating.therapy_session_id)
                .join(Client, col(Client.id) == TherapySession.client_id)
                .where(Client.code == code)
            )
        }


def assert_round_trip(bundle: Bundle, ratings: dict[int, Rating]) -> None:
    read = answers_by_session(bundle)
    assert set(read) == set(ratings)
    for number, rating in ratings.items():
        expected: dict[str, object] = {
            key: Decimal(str(value)) for key, value in rating.scores.items()
        }
        if rating.comment:
            expected["comment"] = rating.comment
        expected["wants_to_talk"] = rating.wants_to_talk
        assert read[number] == expected, number


@sqlite_only
def test_every_demo_bundle_validates_and_reads_back_every_rating_exactly(api, db) -> None:
    load_demo(database=db)
    with db.reading() as session:
        admin = session.exec(select(User).where(User.role == "admin")).first()
        codes = session.exec(select(Client.code)).all()
    admin = sign_in_as(db, admin)
    assert len(codes) == 60
    for code in codes:
        bundle = bundle_of(api, admin, code)
        assert bundle.type == "collection"
        kinds = [entry.resource.get_resource_type() for entry in bundle.entry]
        assert kinds[0] == "Patient"
        assert_round_trip(bundle, stored_ratings(db, code))


def test_the_bundle_names_the_client_by_code_only_and_carries_wording_and_flags(api, db) -> None:
    therapist = signed_in(db)
    client = ruptured(api, db, therapist, comment="Too fast", note="We slowed down.")
    rate(api, db, client, {f"wai_{n}": 4 for n in range(1, 13)}, instrument="wai12")
    flags = api.get(f"/api/clients/{client.code}/flags", headers=therapist.headers).json()

    bundle = bundle_of(api, therapist, client.code)

    by_kind: dict[str, list] = {}
    for entry in bundle.entry:
        by_kind.setdefault(entry.resource.get_resource_type(), []).append(entry.resource)
    (patient,) = by_kind["Patient"]
    assert [i.value for i in patient.identifier] == [client.code]
    assert patient.name is None and patient.birthDate is None and patient.gender is None
    questionnaires = {q.name: q for q in by_kind["Questionnaire"]}
    assert set(questionnaires) == {"alliance4", "wai12"}
    alliance = questionnaires["alliance4"]
    assert [item.linkId for item in alliance.item] == [
        "relationship",
        "goals",
        "approach",
        "overall",
        "comment",
        "wants_to_talk",
    ]
    assert alliance.item[0].text == get_instrument("alliance4").items[0].text_in("en").prompt
    assert [e.valueDecimal for e in alliance.item[0].extension] == [0, 10]
    assert [e.valueDecimal for e in questionnaires["wai12"].item[0].extension] == [1, 5]
    assert len(by_kind["Flag"]) == len(flags)
    acknowledged = next(f for f in flags if f["status"] == "acknowledged")
    flag = next(f for f in by_kind["Flag"] if f.id.endswith(f"-flag-{acknowledged['id']}"))
    extensions = {e.url.rsplit(":", 1)[1]: e for e in flag.extension}
    assert extensions["therapist-action"].valueCode == "raised_in_session"
    assert extensions["therapist-note"].valueString == "We slowed down."
    assert flag.status == "active"
    assert_round_trip(bundle, stored_ratings(db, client.code))


@sqlite_only  # typesetting is the same on both databases
def test_an_export_is_audited_with_what_was_exported(api, db) -> None:
    therapist = signed_in(db)
    client = make_client(db, therapist)
    api.get(f"/api/clients/{client.code}/export.fhir.json", headers=therapist.headers)
    api.get(f"/api/clients/{client.code}/report.pdf?comments=true", headers=therapist.headers)
    with db.reading() as session:
        events = session.exec(
            select(AuditEvent.action, AuditEvent.object_id, AuditEvent.actor_id)
            .where(AuditEvent.client_code == client.code, AuditEvent.action == "export_client")
            .order_by(col(AuditEvent.id))
        ).all()
    assert events == [
        ("export_client", "fhir bundle", therapist.id),
        ("export_client", "pdf report with comments", therapist.id),
    ]


# CSV ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Sam Lee", "Sam Lee"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_cells_that_could_start_a_formula_are_neutralised(cell, shown) -> None:
    assert neutralised(cell) == shown


def test_csv_text_neutralises_text_and_leaves_numbers_as_numbers() -> None:
    text = csv_text(["name", "total", "talk"], [["=HYPERLINK(1)", 31.5, True], [None, 7, False]])
    assert list(csv.reader(io.StringIO(text))) == [
        ["name", "total", "talk"],
        ["'=HYPERLINK(1)", "31.5", "yes"],
        ["", "7", "no"],
    ]


def _csv(api, who, path: str) -> list[dict[str, str]]:
    response = api.get(path, headers=who.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def test_the_caseload_csv_has_a_row_per_rating_with_flags_and_episode_status(api, db) -> None:
    therapist = signed_in(db)
    client = ruptured(api, db, therapist, comment="private")
    other = make_client(db, signed_in(db))
    rate(api, db, other, alliance4())

    rows = _csv(api, therapist, "/api/caseload/export.csv")

    assert [(r["client_code"], r["session_number"]) for r in rows] == [
        (client.code, str(n)) for n in range(1, 6)
    ]
    last = rows[-1]
    assert (last["relationship"], last["goals"], last["total"]) == ("6", "7", "27.5")
    assert last["wants_to_talk"] == "yes"
    assert "urgent:client_wants_to_talk (acknowledged, raised_in_session)" in last["flags"]
    assert "urgent:below_personal_baseline (open)" in last["flags"]
    assert last["episode_status"] == "open"
    assert rows[0]["flags"] == "" and rows[0]["episode_status"] == ""
    assert "private" not in str(rows)  # comments stay out of spreadsheets
    assert "therapist" not in rows[0]


def test_the_team_csv_holds_only_the_supervisors_teams_and_neutralises_names(api, db) -> None:
    supervisor = signed_in(db, role="supervisor", team="North")
    north = make_user(db, team="North")
    with db.writing() as session:
        renamed = session.get(User, north.id)
        renamed.display_name = '=HYPERLINK("http://x.test","Sam")'
        session.add(renamed)
    south = make_user(db, team="South")
    mine, theirs = make_client(db, north), make_client(db, south)
    rate(api, db, mine, alliance4())
    rate(api, db, theirs, alliance4())

    rows = _csv(api, supervisor, "/api/team/export.csv")

    assert [r["client_code"] for r in rows] == [mine.code]
    assert rows[0]["therapist"] == '\'=HYPERLINK("http://x.test","Sam")'
    assert rows[0]["team"] == "North"
    assert _csv(api, supervisor, "/api/caseload/export.csv")[0]["client_code"] == mine.code


def test_a_team_the_supervisor_does_not_oversee_is_404(api, db) -> None:
    supervisor = signed_in(db, role="supervisor", team="North")
    other = signed_in(db, role="supervisor", team="South")
    south_team = other.user.team_id
    response = api.get(f"/api/team/export.csv?team={south_team}", headers=supervisor.headers)
    assert response.status_code == 404
    assert response.json()["detail"]


# PDF ---------------------------------------------------------------------------------


def _pdf_text(api, who, code: str, query: str = "") -> tuple[str, int]:
    response = api.get(f"/api/clients/{code}/report.pdf{query}", headers=who.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(text.split()), len(reader.pages)  # lines wrap where the layout wraps


@sqlite_only
@pytest.mark.parametrize("ratings", [0, 1, 200])
def test_the_report_prints_the_code_and_the_latest_total(api, db, ratings) -> None:
    therapist = signed_in(db)
    client = make_client(db, therapist)
    # Steady, then a drop every 20th session: flags and episodes across pages.
    totals = [9.0 if n % 20 else 6.5 for n in range(1, ratings + 1)]
    rated_history(db, client, totals, comments={1: "Felt rushed today"})

    text, pages = _pdf_text(api, therapist, client.code)

    assert f"Alliance report · client {client.code}" in text
    assert f"Page 1 of {pages}" in text
    assert re.search(r"Printed \d\d [A-Z][a-z]{2} \d{4} at \d\d:\d\d UTC", text)
    if ratings == 0:
        assert "Latest total none yet" in text
        assert "No ratings yet." in text
    else:
        latest = 4 * totals[-1]
        assert f"Latest total {latest:.1f} (session {ratings}," in text
    assert "Felt rushed today" not in text  # comments only when asked for
    if ratings == 200:
        assert pages > 3


@sqlite_only
def test_the_report_includes_comments_and_what_was_done_when_asked(api, db) -> None:
    therapist = signed_in(db)
    client = ruptured(
        api,
        db,
        therapist,
        comment="Felt rushed today",
        action="consulted_supervisor",
        note="Discussed on Friday",
    )

    text, _ = _pdf_text(api, therapist, client.code, "?comments=true")

    assert "Felt rushed today" in text
    assert "Consulted supervisor" in text
    assert "Note: Discussed on Friday" in text
    assert "Rupture episodes" in text and "Open" in text


def test_each_wording_version_answered_is_its_own_questionnaire_version(api, db) -> None:
    therapist = signed_in(db)
    client = make_client(db, therapist)
    rate(api, db, client, alliance4())
    rate(api, db, client, alliance4())
    with db.writing() as session:
        first = session.exec(
            select(Rating)
            .join(TherapySession, col(TherapySession.id) == Rating.therapy_session_id)
            .where(TherapySession.client_id == client.id, TherapySession.session_number == 1)
        ).one()
        first.wording_version = 1  # answered before the wording review
        session.add(first)

    bundle = bundle_of(api, therapist, client.code)

    questionnaires = {
        e.resource.version: e.resource
        for e in bundle.entry
        if e.resource.get_resource_type() == "Questionnaire"
    }
    assert set(questionnaires) == {"1", "2"}
    overall = {
        v: next(i.text for i in q.item if i.linkId == "overall") for v, q in questionnaires.items()
    }
    assert overall["1"] == "Overall, how did today's session feel to you?"
    assert overall["1"] != overall["2"]
    responses = [
        e.resource.questionnaire
        for e in bundle.entry
        if e.resource.get_resource_type() == "QuestionnaireResponse"
    ]
    assert [r.rsplit("|", 1)[1] for r in responses] == ["1", "2"]
