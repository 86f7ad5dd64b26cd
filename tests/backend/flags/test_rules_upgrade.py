"""Moving a database scored by the old rules (2026.11.1) to the current ones."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, insert, select

from backend.clock import utcnow
from backend.flags.models import Flag
from backend.flags.scoring_sync import rescore_everyone
from scoring import RULES_VERSION
from tests.backend.factories import alliance4, make_client, make_session_with_link, signed_in

OLD = "2026.11.1"


def _old_flag(client_id: int, session_number: int, rule: str, severity: str, **extra) -> dict:
    return {
        "client_id": client_id,
        "session_number": session_number,
        "held_on": date(2026, 12, 6),
        "instrument": "alliance4",
        "rule": rule,
        "item": "",
        "severity": severity,
        "level": None,
        "explanation": f"old {rule}",
        "guidance": "old guidance",
        "evidence": {"value": 30.0},
        "rules_version": OLD,
        "status": "open",
        "created_at": utcnow(),
        **extra,
    }


def test_rescore_moves_old_flags_to_the_new_rules_and_keeps_what_people_wrote(api, db):
    therapist = signed_in(db)
    client = make_client(db, therapist)
    for scores, talk in [(alliance4(9.5, 9.5, 9.5, 9.5), False)] * 4 + [
        (alliance4(7.5, 7.5, 7.5, 7.5), True),
        (alliance4(9.5, 9.5, 9.5, 9.5), False),
    ]:
        _, token = make_session_with_link(db, client)
        body = {"scores": scores, "wants_to_talk": talk}
        assert api.post(f"/api/public/ratings/{token}", json=body).status_code == 201
    acted = {
        "status": "acknowledged",
        "action": "raised_in_session",
        "note": "We spoke about feeling rushed.",
        "acknowledged_at": utcnow(),
        "acknowledged_by": therapist.id,
    }
    with db.writing() as session:
        session.execute(delete(Flag).where(Flag.client_id == client.id))
        session.execute(
            insert(Flag),
            [
                _old_flag(client.id, 5, "reliable_drop", "warning", **acted),
                _old_flag(client.id, 5, "drop_from_previous", "info"),
                _old_flag(client.id, 5, "item_low", "talk", item="relationship"),
                _old_flag(client.id, 5, "below_cutoff", "talk", note="Seemed tired."),
                _old_flag(
                    client.id,
                    5,
                    "client_wants_to_talk",
                    "urgent",
                    status="resolved",
                    resolution="repaired",
                    resolved_at=utcnow(),
                ),
            ],
        )

    rescore_everyone(database=db)

    with db.reading() as session:
        flags = {(f.rule, f.item): f for f in session.exec(select(Flag)).scalars()}
    retired = flags[("reliable_drop", "")]
    assert retired.status == "withdrawn"
    assert "own usual range" in retired.withdrawn_reason
    assert (retired.action, retired.note) == ("raised_in_session", "We spoke about feeling rushed.")
    assert "chart" in flags[("drop_from_previous", "")].withdrawn_reason
    assert flags[("item_low", "relationship")].status == "withdrawn"
    request = flags[("client_wants_to_talk", "")]
    assert (request.status, request.resolution, request.rules_version) == (
        "open",
        None,
        RULES_VERSION,
    )
    kept = flags[("below_cutoff", "")]  # still raised: updated in place, the note kept
    assert (kept.rules_version, kept.note, kept.status) == (RULES_VERSION, "Seemed tired.", "open")
    assert all(f.rules_version == RULES_VERSION for f in flags.values() if f.status != "withdrawn")

    shown = api.get(f"/api/clients/{client.code}/flags", headers=therapist.headers).json()
    withdrawn = next(f for f in shown if f["rule"] == "reliable_drop")
    assert withdrawn["note"] == "We spoke about feeling rushed."
    assert withdrawn["withdrawn_reason"].startswith("Withdrawn when the rules were updated")


def test_the_first_pass_after_an_upgrade_rescores_clients_scored_by_old_rules(db):
    from backend.flags.models import ClientSummary
    from backend.flags.rescore_queue import catch_up, queue_outdated

    therapist = signed_in(db)
    client = make_client(db, therapist)
    make_session_with_link(db, client)
    with db.writing() as session:
        session.add(ClientSummary(client_id=client.id, rules_version=OLD))
        session.execute(insert(Flag), [_old_flag(client.id, 1, "drop_from_previous", "info")])
    assert queue_outdated(db) == 1
    catch_up(db)
    with db.reading() as session:
        summary = session.get(ClientSummary, client.id)
        flag = session.exec(select(Flag)).scalars().one()
    assert summary.rules_version == RULES_VERSION
    assert flag.status == "withdrawn"
    assert queue_outdated(db) == 0


def test_the_calibration_in_force_is_the_default_until_rescore_estimates_the_clinics(api, db):
    therapist = signed_in(db)
    url = "/api/scoring/calibration"
    before = {c["instrument"]: c for c in api.get(url, headers=therapist.headers).json()}
    assert (before["alliance4"]["source"], before["alliance4"]["within_sd"]) == (
        "instrument default",
        2.5,
    )
    for _ in range(25):
        api.app.state.public_rate_limiter.reset()  # one test address answers for 25 clients
        client = make_client(db, therapist)
        for total in (37, 38.5, 36.5, 39, 37.5):
            _, token = make_session_with_link(db, client)
            quarter = round(total / 4, 1)
            scores = alliance4(quarter, quarter, quarter, round(total - 3 * quarter, 1))
            assert api.post(f"/api/public/ratings/{token}", json={"scores": scores}).is_success
    rescore_everyone(database=db)
    after = {c["instrument"]: c for c in api.get(url, headers=therapist.headers).json()}
    assert after["alliance4"]["source"] == "clinic estimate"
    assert after["alliance4"]["clients"] == 25 and 0.5 < after["alliance4"]["within_sd"] < 2.5
    assert after["wai12"]["source"] == "instrument default"
