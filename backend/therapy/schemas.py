from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from backend.i18n import available_languages
from scoring.instruments import DEFAULT_INSTRUMENT, instrument_ids

#: English and every language with a catalog in backend/locales: a new .po is a new choice.
Language = Literal[available_languages()]  # type: ignore[valid-type]
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date_only(value: Any) -> Any:
    """A date as the schema's format "date" says ("2026-11-20"); pydantic alone would also
    take 0 or "0" as seconds since 1970."""
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise PydanticCustomError("date_type", "Input should be a date written YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]


class TherapySessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    held_on: IsoDate = Field(
        description="Not after today in the clinic's time zone, and not before the client's "
        "latest recorded session (else 422): sessions are numbered in the order they were held."
    )
    # The registry's ids, for the schema; the service checks them and names the choices.
    instrument: str = Field(
        default=DEFAULT_INSTRUMENT,
        max_length=40,
        json_schema_extra={"enum": list(instrument_ids())},
    )
    language: Language = "en"


class NewSessionDates(BaseModel):
    """The dates a new session of this client may be recorded on, both ends included."""

    #: The client's latest recorded session; None before the first.
    earliest: date | None
    #: Today in the clinic's time zone.
    latest: date


class LinkReissue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: Language | None = None


class TherapySessionPublic(BaseModel):
    session_number: int
    held_on: date
    instrument: str
    rated: bool
    link_expires_at: datetime | None
    link_used_at: datetime | None


class IssuedLink(BaseModel):
    """Returned once, when a link is issued: the token cannot be retrieved later."""

    session: TherapySessionPublic
    url: str
    expires_at: datetime
    language: Language
    qr_svg: str
