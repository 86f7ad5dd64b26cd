from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from backend.i18n import available_languages
from scoring.instruments import DEFAULT_INSTRUMENT, instrument_ids

#: English and every language with a catalog in backend/locales: a new .po is a new choice.
Language = Literal[available_languages()]  # type: ignore[valid-type]


class TherapySessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    held_on: date
    # The registry's ids, for the schema; the service checks them and names the choices.
    instrument: str = Field(
        default=DEFAULT_INSTRUMENT,
        max_length=40,
        json_schema_extra={"enum": list(instrument_ids())},
    )
    language: Language = "en"


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
