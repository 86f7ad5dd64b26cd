from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from backend.auth.deps import CallerDep
from backend.clients.schemas import ClientCode
from backend.clock import utcnow
from backend.config import SettingsDep
from backend.db import DatabaseDep
from backend.exports.fhir import fhir_bundle
from backend.exports.report import report_pdf
from backend.exports.service import caseload_table, record_for_export, team_table
from backend.exports.spreadsheet import csv_text
from backend.problems import refusals

router = APIRouter(prefix="/api", tags=["exports"], responses=refusals(401, 403, 404, 422))

FHIR_JSON = "application/fhir+json"
CSV = "text/csv; charset=utf-8"


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def _content(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": description, "content": {media_type: {}}}}


@router.get(
    "/clients/{client_id}/export.fhir.json",
    response_class=JSONResponse,
    responses=_content(FHIR_JSON, "A FHIR R4 Bundle (collection) of the client's whole record"),
)
def fhir_export(
    client_id: ClientCode, caller: CallerDep, db: DatabaseDep, settings: SettingsDep
) -> JSONResponse:
    """The client's record for an EHR: Patient (code only), Questionnaires,
    QuestionnaireResponses and Flags. The client's therapist, their supervisors, and
    administrators (on the client's request)."""
    with db.reading() as session:
        record = record_for_export(
            session=session, caller=caller, code=client_id, what="fhir bundle"
        )
    bundle = fhir_bundle(record, installation=settings.public_base_url, now=utcnow())
    return JSONResponse(
        bundle,
        media_type=FHIR_JSON,
        headers=_attachment(f"rapport-{record.client.code}.fhir.json"),
    )


@router.get(
    "/clients/{client_id}/report.pdf",
    response_class=Response,
    responses=_content("application/pdf", "A printable report of the client's record"),
)
def pdf_report(
    client_id: ClientCode,
    caller: CallerDep,
    db: DatabaseDep,
    comments: Annotated[bool, Query(description="Include the client's comments")] = False,
) -> Response:
    """Trajectory chart, rupture episodes, flags and what was done, ratings; with
    ``comments=true`` the client's comments too."""
    what = "pdf report with comments" if comments else "pdf report without comments"
    with db.reading() as session:
        record = record_for_export(session=session, caller=caller, code=client_id, what=what)
    pdf = report_pdf(record, with_comments=comments, printed_at=utcnow())
    return Response(
        pdf,
        media_type="application/pdf",
        headers=_attachment(f"rapport-{record.client.code}.pdf"),
    )


@router.get(
    "/caseload/export.csv",
    response_class=Response,
    responses=_content(CSV, "One row per rating of the caller's clients"),
)
def caseload_csv(caller: CallerDep, db: DatabaseDep) -> Response:
    """Every rating of the caller's clients (a supervisor: their teams'), active and
    discharged: item scores, total, flags, episode status; pseudonymous."""
    with db.reading() as session:
        table = caseload_table(session=session, caller=caller)
    return Response(
        csv_text(table.header, table.rows),
        media_type=CSV,
        headers=_attachment("rapport-caseload.csv"),
    )


@router.get(
    "/team/export.csv",
    response_class=Response,
    responses=_content(CSV, "One row per rating of the supervisor's teams' clients"),
)
def team_csv(
    caller: CallerDep,
    db: DatabaseDep,
    team: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="One team's id")] = None,
) -> Response:
    """Supervisors only: the caseload CSV of their teams, with each client's therapist."""
    with db.reading() as session:
        table = team_table(session=session, caller=caller, team_id=team)
    return Response(
        csv_text(table.header, table.rows),
        media_type=CSV,
        headers=_attachment("rapport-team.csv"),
    )
