"""The rating page's words, view models and form parsing: no HTTP, no database.

``backend/ratings/page_router.py`` serves the page; this is what it shows and how it
reads the answers a browser posts without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel.support import NullTranslations

from backend.ratings.models import COMMENT_MAX_LENGTH
from backend.ratings.schemas import InstrumentPublic, RatingForm
from backend.ratings.wording import N_
from backend.text_fields import has_control_characters

#: Without JavaScript a 0–10 scale is offered in halves: 21 choices are quick to pick from.
FALLBACK_STRIDE = 0.5

ERROR_MISSING = N_("Please choose an answer for this question.")
ERROR_INVALID = N_("This answer could not be used. Please choose again.")
ERROR_COMMENT_TOO_LONG = N_("Please keep this to %(max)s characters or fewer.")
ERROR_COMMENT_CONTROL_CHARACTERS = N_(
    "This contains invisible control characters. Please type it again."
)
#: The calm pages that say why there is no form: (title, text).
NOTICES: dict[str, tuple[str, str]] = {
    "used": (N_("Already sent"), N_("This rating has already been sent — thank you.")),
    "invalid": (
        N_("Link not valid"),
        N_("This link is no longer valid; ask your therapist for a new one."),
    ),
    # A link that expired (or was replaced) while the client was answering: say plainly
    # that what they typed did not arrive, so nobody believes it was sent.
    "not_sent": (
        N_("Your answers were not sent"),
        N_(
            "This link stopped working before your answers arrived, so they were not sent. "
            "Please ask your therapist for a new link."
        ),
    ),
    "too_many": (
        N_("Please wait a moment"),
        N_("Too many tries from this connection. Please wait a minute and try again."),
    ),
}


@dataclass(frozen=True)
class ItemView:
    key: str
    prompt: str
    low_anchor: str
    high_anchor: str
    #: "choice" for labelled answers (radio buttons), "scale" for a numeric range.
    kind: str
    options: list[tuple[str, str]]
    min: str
    max: str
    step: str


def _number(value: float) -> str:
    return f"{value:g}"


def _scale_points(instrument: InstrumentPublic) -> list[float]:
    stride = instrument.step * max(1, round(FALLBACK_STRIDE / instrument.step))
    count = round((instrument.item_max - instrument.item_min) / stride)
    return [round(instrument.item_min + i * stride, 6) for i in range(count + 1)]


def item_views(instrument: InstrumentPublic) -> list[ItemView]:
    views = []
    for item in instrument.items:
        if instrument.choices:
            kind = "choice"
            options = [
                (_number(instrument.item_min + i * instrument.step), label)
                for i, label in enumerate(instrument.choices)
            ]
        else:
            kind = "scale"
            points = _scale_points(instrument)
            options = [(_number(p), _number(p)) for p in points]
            options[0] = (options[0][0], f"{options[0][1]} — {item.low_anchor}")
            options[-1] = (options[-1][0], f"{options[-1][1]} — {item.high_anchor}")
        views.append(
            ItemView(
                key=item.key,
                prompt=item.prompt,
                low_anchor=item.low_anchor,
                high_anchor=item.high_anchor,
                kind=kind,
                options=options,
                min=_number(instrument.item_min),
                max=_number(instrument.item_max),
                step=_number(instrument.step),
            )
        )
    return views


def parse_answers(
    form: RatingForm, fields: dict[str, str], words: NullTranslations
) -> tuple[dict[str, float], dict[str, str]]:
    """Numbers for every answered item, and an error for every item left blank or garbled."""
    scores: dict[str, float] = {}
    errors: dict[str, str] = {}
    for item in form.instrument.items:
        raw = fields.get(item.key, "").strip()
        if not raw:
            errors[item.key] = words.gettext(ERROR_MISSING)
            continue
        try:
            scores[item.key] = float(raw)
        except ValueError:
            errors[item.key] = words.gettext(ERROR_INVALID)
    if len(fields.get("comment", "")) > COMMENT_MAX_LENGTH:
        errors["comment"] = words.gettext(ERROR_COMMENT_TOO_LONG) % {"max": COMMENT_MAX_LENGTH}
    elif has_control_characters(fields.get("comment", "")):
        errors["comment"] = words.gettext(ERROR_COMMENT_CONTROL_CHARACTERS)
    return scores, errors
