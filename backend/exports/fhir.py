"""A client's record as a FHIR R4 Bundle of type ``collection``, for the clinic's EHR.

- ``Patient``: only the pseudonymous code, as an identifier of this installation;
- one ``Questionnaire`` per instrument the client answered, in Rapport's own wording
  from the instrument registry (item ``linkId`` = item key, answers ``decimal`` within
  the registry's range), plus the comment and the request to talk;
- one ``QuestionnaireResponse`` per rating (``completed``, ``authored`` = when the
  client sent it);
- one ``Flag`` per flag, with what the therapist did about it and their note.

Plain dictionaries are built here; the tests validate every bundle with the
``fhir.resources`` models (R4B, whose resources used here are unchanged from R4).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from backend.exports.record import ClientRecord, RatedSession
from backend.flags.models import Flag
from scoring.instruments import EARLIER_WORDING, Instrument, get_instrument

#: Definitions (questionnaires, extensions, code systems) are the same in every installation.
DEFINITIONS = "urn:rapport:fhir"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
#: Items every Rapport questionnaire ends with, beside the instrument's own.
COMMENT_LINK_ID = "comment"
TALK_LINK_ID = "wants_to_talk"
COMMENT_MAX_LENGTH = 1000
#: Rapport's flag states are finer than FHIR's active / inactive / entered-in-error.
FLAG_STATUS = {
    "open": "active",
    "acknowledged": "active",
    "resolved": "inactive",
    "withdrawn": "entered-in-error",
}
_NAMESPACE = uuid.UUID("5f0c1f4e-2b8a-4d7e-9a51-7a0d3c1e6b42")


def questionnaire_url(instrument: Instrument) -> str:
    return f"{DEFINITIONS}:questionnaire:{instrument.id}"


def _extension(name: str, value_type: str, value: Any) -> dict[str, Any]:
    return {"url": f"{DEFINITIONS}:extension:{name}", f"value{value_type}": value}


def _instant(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _decimal(value: float) -> float:
    """Stored scores are floats rounded to 0.1, so their shortest repr is the exact answer."""
    return float(value)


def _full_url(code: str, resource_type: str, resource_id: str) -> str:
    """A stable ``urn:uuid`` per resource, so exporting twice gives the same references."""
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{code}/{resource_type}/{resource_id}')}"


def _anchors(instrument: Instrument, item_key: str) -> str:
    choices = instrument.choices_in("en")
    if choices:
        first = int(instrument.item_min)
        return ", ".join(f"{first + n} = {label}" for n, label in enumerate(choices))
    text = next(i for i in instrument.items if i.key == item_key).text_in("en")
    return (
        f"{instrument.item_min:g} = {text.low_anchor}, {instrument.item_max:g} = {text.high_anchor}"
    )


def questionnaire(instrument: Instrument, wording_version: int) -> dict[str, Any]:
    """The instrument as the client saw it, in English, with each item's answer range.

    One per wording version a client answered (``Questionnaire.version``): an item whose
    question changed shows the words that version asked (``scoring.instruments``)."""
    own_keys = set(instrument.item_keys)
    if own_keys & {COMMENT_LINK_ID, TALK_LINK_ID}:
        raise ValueError(f"{instrument.id} has an item named like Rapport's own items")
    items: list[dict[str, Any]] = [
        {
            "linkId": item.key,
            "text": EARLIER_WORDING.get(
                (instrument.id, item.key, wording_version), item.text_in("en").prompt
            ),
            "type": "decimal",
            "required": True,
            "extension": [
                {"url": MIN_VALUE, "valueDecimal": _decimal(instrument.item_min)},
                {"url": MAX_VALUE, "valueDecimal": _decimal(instrument.item_max)},
            ],
            "item": [
                {
                    "linkId": f"{item.key}.anchors",
                    "text": _anchors(instrument, item.key),
                    "type": "display",
                }
            ],
        }
        for item in instrument.items
    ]
    items.append(
        {
            "linkId": COMMENT_LINK_ID,
            "text": "Anything you would like your therapist to know? (optional)",
            "type": "text",
            "required": False,
            "maxLength": COMMENT_MAX_LENGTH,
        }
    )
    items.append(
        {
            "linkId": TALK_LINK_ID,
            "text": "I'd like to talk about how therapy is going",
            "type": "boolean",
            "required": False,
        }
    )
    return {
        "resourceType": "Questionnaire",
        "id": f"{instrument.id}-v{wording_version}",
        "url": questionnaire_url(instrument),
        "version": str(wording_version),
        "name": instrument.id,
        "title": instrument.name,
        "status": "active",
        "subjectType": ["Patient"],
        "description": (
            f"Rapport's own wording; items {instrument.item_min:g} to {instrument.item_max:g} "
            f"in steps of {instrument.step:g}. {instrument.psychometrics.sources}"
        ),
        "item": items,
    }


def questionnaire_response(rated: RatedSession, *, code: str, patient_url: str) -> dict[str, Any]:
    rating, therapy_session = rated.rating, rated.session
    instrument = get_instrument(rating.instrument)
    items: list[dict[str, Any]] = [
        {
            "linkId": key,
            "text": item.text_in("en").prompt,
            "answer": [{"valueDecimal": _decimal(rating.scores[key])}],
        }
        for key, item in zip(instrument.item_keys, instrument.items, strict=True)
    ]
    if rating.comment:
        items.append({"linkId": COMMENT_LINK_ID, "answer": [{"valueString": rating.comment}]})
    items.append({"linkId": TALK_LINK_ID, "answer": [{"valueBoolean": rating.wants_to_talk}]})
    return {
        "resourceType": "QuestionnaireResponse",
        "id": f"{code}-session-{therapy_session.session_number}",
        "identifier": {
            "system": f"{DEFINITIONS}:session",
            "value": f"{code}/{therapy_session.session_number}",
        },
        "questionnaire": f"{questionnaire_url(instrument)}|{rating.wording_version}",
        "status": "completed",
        "subject": {"reference": patient_url},
        "authored": _instant(rating.submitted_at),
        "extension": [
            _extension("session-number", "PositiveInt", therapy_session.session_number),
            _extension("session-date", "Date", therapy_session.held_on.isoformat()),
            _extension("total", "Decimal", _decimal(rating.total)),
        ],
        "item": items,
    }


def flag_resource(flag: Flag, *, code: str, patient_url: str) -> dict[str, Any]:
    extensions = [
        _extension("severity", "Code", flag.severity),
        _extension("status", "Code", flag.status),
        _extension("session-number", "PositiveInt", flag.session_number),
        _extension("guidance", "String", flag.guidance),
        _extension("rules-version", "String", flag.rules_version),
    ]
    if flag.item:
        extensions.append(_extension("item", "String", flag.item))
    if flag.action:
        extensions.append(_extension("therapist-action", "Code", flag.action))
    if flag.note:
        extensions.append(_extension("therapist-note", "String", flag.note))
    if flag.acknowledged_at:
        extensions.append(_extension("acknowledged", "DateTime", _instant(flag.acknowledged_at)))
    if flag.resolution:
        extensions.append(_extension("resolution", "Code", flag.resolution))
    period: dict[str, str] = {"start": flag.held_on.isoformat()}
    if flag.resolved_at:
        period["end"] = flag.resolved_at.date().isoformat()
    return {
        "resourceType": "Flag",
        "id": f"{code}-flag-{flag.id}",
        "extension": extensions,
        "status": FLAG_STATUS[flag.status],
        "code": {
            "coding": [{"system": f"{DEFINITIONS}:flag-rule", "code": flag.rule}],
            "text": flag.explanation,
        },
        "subject": {"reference": patient_url},
        "period": period,
    }


def fhir_bundle(record: ClientRecord, *, installation: str, now: datetime) -> dict[str, Any]:
    """The whole record; ``installation`` (the public base URL) scopes the client's code."""
    code = record.client.code
    patient_url = _full_url(code, "Patient", code)
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": patient_url,
            "resource": {
                "resourceType": "Patient",
                "id": code,
                "identifier": [
                    {
                        "use": "secondary",
                        "system": f"{installation.rstrip('/')}/client-code",
                        "value": code,
                    }
                ],
            },
        }
    ]
    used = dict.fromkeys((r.rating.instrument, r.rating.wording_version) for r in record.rated)
    for instrument_id, version in used:
        resource = questionnaire(get_instrument(instrument_id), version)
        entries.append(
            {
                "fullUrl": _full_url(code, "Questionnaire", resource["id"]),
                "resource": resource,
            }
        )
    for rated in record.rated:
        response = questionnaire_response(rated, code=code, patient_url=patient_url)
        entries.append(
            {
                "fullUrl": _full_url(code, "QuestionnaireResponse", response["id"]),
                "resource": response,
            }
        )
    for flag in record.flags:
        resource = flag_resource(flag, code=code, patient_url=patient_url)
        entries.append({"fullUrl": _full_url(code, "Flag", resource["id"]), "resource": resource})
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": _instant(now)},
        "type": "collection",
        "timestamp": _instant(now),
        "entry": entries,
    }
