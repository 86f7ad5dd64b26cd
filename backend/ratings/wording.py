"""What the client reads, in their language: item wording from the catalogs, clinic notices.

The page's own sentences are in the templates; item wording comes from the
instrument registry (English, the source) through the catalogs. Two texts depend
on the clinic, not the language: who reads the answers and the safety notice. A
clinic sets them (``Settings``); the defaults here are the catalogs' own and are
used only when the clinic has set nothing, so a clinic in Spain or Mexico that
set its own safety notice never shows a US number, in any language.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from babel.support import NullTranslations

from backend.config import Settings
from backend.i18n import SOURCE_LANGUAGE
from backend.ratings.schemas import InstrumentPublic, ItemPublic
from scoring.instruments import Instrument, current_wording_version, get_instrument, instrument_ids


def N_(message: str) -> str:
    """gettext's marker: extract this text for translation, translate it later."""
    return message


DEFAULT_EMERGENCY_NOTICE = N_(
    "No one reads these answers as they arrive. In an emergency, call 911. To talk to "
    "someone now, call or text 988, the Suicide & Crisis Lifeline (US). It is free and "
    "confidential."
)
DEFAULT_WHO_READS = N_(
    "Your therapist reads your answers. The person who supervises your therapist may also "
    "see them, to support your care."
)


def emergency_notice(settings: Settings, language: str, words: NullTranslations) -> str:
    """The clinic's safety notice in this language, else its main one; the default if none."""
    clinic = settings.clinic_text("emergency_notice", language)
    return clinic if clinic is not None else words.gettext(DEFAULT_EMERGENCY_NOTICE)


def who_reads(settings: Settings, language: str, words: NullTranslations) -> str:
    """Who sees the client's answers, as the clinic words it."""
    clinic = settings.clinic_text("who_reads_answers", language)
    return clinic if clinic is not None else words.gettext(DEFAULT_WHO_READS)


def _item_context(instrument: Instrument, key: str) -> str:
    return f"{instrument.id}.{key}"


def _choices_context(instrument: Instrument) -> str:
    return f"{instrument.id}.choices"


def instrument_public(instrument: Instrument, words: NullTranslations) -> InstrumentPublic:
    """The instrument as the client reads it; a choice instrument's anchors are its end choices."""
    choices = [
        words.pgettext(_choices_context(instrument), text)
        for text in instrument.choices_in(SOURCE_LANGUAGE)
    ]
    items = []
    for item in instrument.items:
        english = item.text_in(SOURCE_LANGUAGE)
        context = _item_context(instrument, item.key)
        low, high = (
            (choices[0], choices[-1])
            if choices
            else (
                words.pgettext(context, english.low_anchor),
                words.pgettext(context, english.high_anchor),
            )
        )
        items.append(
            ItemPublic(
                key=item.key,
                subscale=item.subscale,
                prompt=words.pgettext(context, english.prompt),
                low_anchor=low,
                high_anchor=high,
            )
        )
    return InstrumentPublic(
        id=instrument.id,
        name=instrument.name,
        wording_version=current_wording_version(instrument.id),
        item_min=instrument.item_min,
        item_max=instrument.item_max,
        step=instrument.step,
        choices=choices,
        items=items,
    )


def extract_instrument_wording(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, tuple[str, str], list[str]]]:
    """Babel extractor (``babel.cfg``): the English wording of every registered instrument.

    Each text gets the context ``<instrument>.<item>`` (or ``<instrument>.choices``), so
    a reworded item appears in every catalog as an entry to review, never as a silent
    reuse of the old translation.
    """
    source = fileobj.read().decode("utf-8")

    def line_of(text: str) -> int:
        at = source.find(text[:30])  # long texts are split across lines in the source
        return source.count("\n", 0, at) + 1 if at >= 0 else 1

    for instrument_id in instrument_ids():
        instrument = get_instrument(instrument_id)
        choices = instrument.choices_in(SOURCE_LANGUAGE)
        for item in instrument.items:
            english = item.text_in(SOURCE_LANGUAGE)
            where = f"{instrument.name}, item {item.key}"
            if item.subscale:
                where += f" ({item.subscale} subscale)"
            parts = [("the question", english.prompt)]
            if not choices:
                parts += [
                    ("label of the lowest answer", english.low_anchor),
                    ("label of the highest answer", english.high_anchor),
                ]
            for part, text in parts:
                yield (
                    line_of(text),
                    "pgettext",
                    (_item_context(instrument, item.key), text),
                    [f"{where}: {part}."],
                )
        for number, text in enumerate(choices, start=1):
            note = f"{instrument.name}: answer {number} of {len(choices)}, lowest first."
            yield line_of(text), "pgettext", (_choices_context(instrument), text), [note]
