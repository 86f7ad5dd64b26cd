from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat

from backend.ratings.models import COMMENT_MAX_LENGTH
from backend.text_fields import Text


class RatingSubmission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scores: dict[str, StrictFloat] = Field(
        description="Item key -> score, for every item of the instrument."
    )
    comment: Text | None = Field(default=None, max_length=COMMENT_MAX_LENGTH)
    wants_to_talk: StrictBool = False


class RatingReceipt(BaseModel):
    """What the client's phone gets back: nothing about the client."""

    rating_id: str = Field(
        description="Opaque receipt: the same for a retry of the same answer, and says "
        "nothing about how many ratings the clinic holds."
    )
    submitted_at: datetime


class ItemPublic(BaseModel):
    key: str
    prompt: str
    low_anchor: str
    high_anchor: str
    subscale: str | None


class InstrumentPublic(BaseModel):
    id: str
    name: str
    wording_version: int = Field(description="The wording the client reads; see the registry.")
    item_min: float
    item_max: float
    step: float
    choices: list[str]
    items: list[ItemPublic]


class RatingForm(BaseModel):
    state: Literal["open"] = "open"
    language: str
    expires_at: datetime
    instrument: InstrumentPublic


class RatingPublic(BaseModel):
    session_number: int
    held_on: date
    instrument: str
    wording_version: int = Field(
        description="The item wording the client answered (scoring.instruments.WORDING_VERSIONS)."
    )
    scores: dict[str, float]
    total: float
    comment: str | None
    wants_to_talk: bool
    submitted_at: datetime
