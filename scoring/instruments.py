"""The alliance instruments Rapport knows, defined once.

Everything the rest of the system needs to know about an instrument lives here:
its items and their wording (in every shipped language), the response range,
how a total is formed, and the psychometric defaults the rules start from.
Nothing else in the code base branches on an instrument id.

The wording is Rapport's own. The Session Rating Scale and the Working Alliance
Inventory are copyrighted; we follow their *structure* only. A clinic that holds
a licence can register its licensed wording as another instrument with
``register``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

LANGUAGES: tuple[str, ...] = ("en", "es")


class ScoreError(ValueError):
    """A submitted set of item scores does not fit the instrument."""

    def __init__(self, item: str, message: str) -> None:
        super().__init__(f"{item}: {message}")
        self.item = item
        self.message = message


@dataclass(frozen=True)
class ItemText:
    prompt: str
    low_anchor: str
    high_anchor: str


@dataclass(frozen=True)
class Item:
    key: str
    subscale: str | None
    text: Mapping[str, ItemText]
    #: How a clinician would say the item was rated low, completing "the client ...".
    low_phrase: str = ""

    def text_in(self, language: str) -> ItemText:
        return self.text.get(language) or self.text["en"]


@dataclass(frozen=True)
class Psychometrics:
    """Defaults the rules start from; a clinic may override them in scoring config.

    ``population_sd`` and ``test_retest`` feed the reliable change index between two
    sessions (Jacobson & Truax 1991); ``reliability`` is internal consistency, which
    describes one rating, not change between two. ``within_sd`` is the usual week-to-week
    SD of one client's total, the range a new client is judged by until their own shows.
    """

    total_cutoff: float
    item_cutoff: float
    population_sd: float
    reliability: float
    test_retest: float
    within_sd: float
    sources: str


@dataclass(frozen=True)
class Instrument:
    id: str
    name: str
    items: tuple[Item, ...]
    item_min: float
    item_max: float
    step: float
    psychometrics: Psychometrics
    #: Labels for each whole-number point, for instruments answered by choice.
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def item_keys(self) -> tuple[str, ...]:
        return tuple(item.key for item in self.items)

    @property
    def total_min(self) -> float:
        return self.item_min * len(self.items)

    @property
    def total_max(self) -> float:
        return self.item_max * len(self.items)

    @property
    def subscales(self) -> dict[str, tuple[str, ...]]:
        grouped: dict[str, list[str]] = {}
        for item in self.items:
            if item.subscale:
                grouped.setdefault(item.subscale, []).append(item.key)
        return {name: tuple(keys) for name, keys in grouped.items()}

    def choices_in(self, language: str) -> tuple[str, ...]:
        return self.choices.get(language) or self.choices.get("en", ())

    def validated_scores(self, scores: Mapping[str, object]) -> dict[str, float]:
        """Return the scores as floats in item order, or raise ``ScoreError`` naming the item."""
        unknown = sorted(set(scores) - set(self.item_keys))
        if unknown:
            raise ScoreError(unknown[0], f"is not an item of {self.id}")
        clean: dict[str, float] = {}
        for key in self.item_keys:
            if key not in scores or scores[key] is None:
                raise ScoreError(key, "is missing")
            raw = scores[key]
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                raise ScoreError(key, "must be a number")
            value = float(raw)
            if not math.isfinite(value) or not self.item_min <= value <= self.item_max:
                raise ScoreError(
                    key, f"must be between {_fmt(self.item_min)} and {_fmt(self.item_max)}"
                )
            steps = (value - self.item_min) / self.step
            if abs(steps - round(steps)) > 1e-6:
                raise ScoreError(key, f"must be in steps of {_fmt(self.step)}")
            clean[key] = round(value, 1)
        return clean

    def total(self, scores: Mapping[str, float]) -> float:
        return round(sum(scores[key] for key in self.item_keys), 1)


def _fmt(value: float) -> str:
    return f"{value:g}"


def _text(en: tuple[str, str, str], es: tuple[str, str, str]) -> dict[str, ItemText]:
    return {"en": ItemText(*en), "es": ItemText(*es)}


ALLIANCE4 = Instrument(
    id="alliance4",
    name="Session alliance (4 items)",
    item_min=0.0,
    item_max=10.0,
    step=0.1,
    items=(
        Item(
            key="relationship",
            low_phrase="felt less listened to",
            subscale="bond",
            text=_text(
                (
                    "How much did you feel your therapist listened to you and took you "
                    "seriously today?",
                    "Not at all",
                    "Completely",
                ),
                (
                    "¿Cuánto sentiste que hoy te escucharon y te tomaron en serio?",
                    "Nada",
                    "Totalmente",
                ),
            ),
        ),
        Item(
            key="goals",
            low_phrase="was less sure the session focused on what matters to them",
            subscale="goal",
            text=_text(
                (
                    "How much did today's session focus on what matters to you?",
                    "Not at all",
                    "Completely",
                ),
                (
                    "¿Cuánto se centró la sesión de hoy en lo que te importa?",
                    "Nada",
                    "Totalmente",
                ),
            ),
        ),
        Item(
            key="approach",
            low_phrase="was less suited by the way you worked together",
            subscale="task",
            text=_text(
                (
                    "How well did the way you worked together today suit you?",
                    "Not at all",
                    "Completely",
                ),
                (
                    "¿Cuánto te convenció la forma de trabajar juntos hoy?",
                    "Nada",
                    "Totalmente",
                ),
            ),
        ),
        Item(
            key="overall",
            low_phrase="felt the session worked less well for them",
            subscale=None,
            text=_text(
                (
                    "Overall, how well did today's session work for you?",
                    "It didn't work for me",
                    "It worked well for me",
                ),
                (
                    "En general, ¿cómo te sentiste con la sesión de hoy?",
                    "No me sirvió",
                    "Me sirvió mucho",
                ),
            ),
        ),
    ),
    psychometrics=Psychometrics(
        total_cutoff=36.0,
        item_cutoff=9.0,
        population_sd=4.0,
        reliability=0.88,
        test_retest=0.64,
        within_sd=2.5,
        sources=(
            "Structure and cutoff 36 after the Session Rating Scale convention "
            "(Duncan et al. 2003; Miller & Duncan 2000); SD 4.0 and internal "
            "consistency .88 as reported for the SRS by Duncan et al. 2003; "
            "test-retest reliability .64 (Duncan et al. 2003; .54-.70 across studies, "
            "Campbell & Hemsley 2009), which puts one client's week-to-week SD at "
            "about 2.5 points."
        ),
    ),
)

_WAI_CHOICES_EN = ("Seldom", "Sometimes", "Fairly often", "Very often", "Always")
_WAI_CHOICES_ES = ("Rara vez", "A veces", "Con bastante frecuencia", "Muy a menudo", "Siempre")

# Item numbers and subscales follow Hatcher & Gillaspy (2006), WAI-SR:
# task 1, 2, 10, 12; bond 3, 5, 7, 9; goal 4, 6, 8, 11. Wording is Rapport's own.
_WAI12_ITEMS = (
    (
        "task",
        "We agree on what I need to do in our sessions to make things better.",
        "Estamos de acuerdo en lo que necesito hacer en las sesiones para mejorar.",
    ),
    (
        "task",
        "Our sessions help me see my situation differently.",
        "Las sesiones me ayudan a ver mi situación de otra manera.",
    ),
    (
        "bond",
        "I sense that my therapist has warmth toward me.",
        "Siento que mi terapeuta me tiene aprecio.",
    ),
    (
        "goal",
        "My therapist and I work together to set goals for our sessions.",
        "Mi terapeuta y yo fijamos juntos los objetivos de las sesiones.",
    ),
    (
        "bond",
        "There is mutual respect between my therapist and me.",
        "Hay respeto mutuo entre mi terapeuta y yo.",
    ),
    (
        "goal",
        "We are working toward goals we both agree on.",
        "Trabajamos hacia objetivos en los que ambos estamos de acuerdo.",
    ),
    (
        "bond",
        "My therapist values me as a person.",
        "Mi terapeuta me valora como persona.",
    ),
    (
        "goal",
        "We agree on what matters most for me to work on.",
        "Estamos de acuerdo en lo que más me importa trabajar.",
    ),
    (
        "bond",
        "I feel my therapist is on my side, even when things are hard.",
        "Siento que mi terapeuta está de mi lado, incluso cuando las cosas son difíciles.",
    ),
    (
        "task",
        "I feel the things we do in therapy will help me make the changes I want.",
        "Siento que lo que hacemos en terapia me ayudará a lograr los cambios que quiero.",
    ),
    (
        "goal",
        "We have a shared sense of what good progress would look like for me.",
        "Compartimos una idea de cómo sería un buen progreso para mí.",
    ),
    (
        "task",
        "I believe the way we are working on my problems is right for me.",
        "Creo que la forma en que trabajamos mis problemas es la adecuada para mí.",
    ),
)

_WAI12_LOW_PHRASES = (
    "agreed less on what to do in sessions",
    "found the sessions less helpful for seeing things differently",
    "felt less warmth from you",
    "felt less involved in setting goals",
    "felt less mutual respect",
    "agreed less on the goals",
    "felt less valued as a person",
    "agreed less on what matters most to work on",
    "felt you were less on their side",
    "was less sure therapy will help them change",
    "shared less your sense of what progress looks like",
    "was less sure the way you work is right for them",
)

WAI12 = Instrument(
    id="wai12",
    name="Working alliance (12 items)",
    item_min=1.0,
    item_max=5.0,
    step=1.0,
    items=tuple(
        Item(
            f"wai_{number}",
            subscale,
            {
                "en": ItemText(en, _WAI_CHOICES_EN[0], _WAI_CHOICES_EN[-1]),
                "es": ItemText(es, _WAI_CHOICES_ES[0], _WAI_CHOICES_ES[-1]),
            },
            low_phrase=phrase,
        )
        for number, ((subscale, en, es), phrase) in enumerate(
            zip(_WAI12_ITEMS, _WAI12_LOW_PHRASES, strict=True), start=1
        )
    ),
    choices={"en": _WAI_CHOICES_EN, "es": _WAI_CHOICES_ES},
    psychometrics=Psychometrics(
        # A mean item response of 3 ("fairly often") is Rapport's convention for
        # a total worth talking about; the WAI-SR publishes no clinical cutoff.
        total_cutoff=36.0,
        item_cutoff=3.0,
        population_sd=8.0,
        reliability=0.91,
        test_retest=0.80,
        within_sd=3.5,
        sources=(
            "Subscales after Hatcher & Gillaspy 2006 (WAI-SR); total SD about 8 "
            "and internal consistency .91 as reported for the WAI-SR total by "
            "Hatcher & Gillaspy 2006 and Munder et al. 2010. The cutoff 36 "
            "(mean item 3), test-retest .80 and week-to-week SD 3.5 are Rapport's "
            "assumptions, not published norms: a clinic's own estimate replaces the SD "
            "once it has enough ratings."
        ),
    ),
)

_REGISTRY: dict[str, Instrument] = {}


class UnknownInstrument(KeyError):
    """No instrument is registered under this id."""


def register(instrument: Instrument) -> Instrument:
    """Add an instrument, e.g. a clinic's licensed wording of a published scale."""
    if instrument.id in _REGISTRY:
        raise ValueError(f"instrument {instrument.id!r} is already registered")
    _REGISTRY[instrument.id] = instrument
    return instrument


def get_instrument(instrument_id: str) -> Instrument:
    try:
        return _REGISTRY[instrument_id]
    except KeyError:
        raise UnknownInstrument(instrument_id) from None


def instrument_ids() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def all_item_keys() -> tuple[str, ...]:
    """Every item key of every instrument, in registry order, without repeats."""
    return tuple(dict.fromkeys(k for i in _REGISTRY.values() for k in i.item_keys))


DEFAULT_INSTRUMENT = register(ALLIANCE4).id
register(WAI12)


@dataclass(frozen=True)
class WordingVersion:
    """One wording of an instrument's items; each rating records the version its client read.

    A new version is needed whenever what an item says changes in any language.
    ``construct_changed`` lists the items that now ask something else: their answers
    under earlier versions are not comparable with later ones. Every other item is
    comparable across versions, including ``reworded`` ones (clearer words, same question).
    """

    number: int
    introduced_on: str
    reworded: tuple[str, ...] = ()
    construct_changed: tuple[str, ...] = ()
    note: str = ""


# Issue 19: a bilingual clinician's review of the Spanish and of `overall`. The Spanish
# item texts above are superseded by backend/locales/es (issue 19); the English is the source.
WORDING_VERSIONS: dict[str, tuple[WordingVersion, ...]] = {
    "alliance4": (
        WordingVersion(1, "2026-11-26", note="First wording."),
        WordingVersion(
            2,
            "2026-12-01",
            reworded=("relationship", "approach"),
            construct_changed=("overall",),
            note=(
                "overall asked how the session felt (mood) and now asks how well it worked, "
                "so a painful but useful session no longer scores low. relationship now names "
                "the therapist as the one who listened; approach in Spanish asked whether the "
                "client was persuaded and now asks whether the way of working suited them."
            ),
        ),
    ),
    "wai12": (
        WordingVersion(1, "2026-11-26", note="First wording."),
        WordingVersion(
            2,
            "2026-12-01",
            reworded=("wai_3", "wai_4", "wai_6", "wai_8", "wai_11"),
            note=(
                "Spanish only: warmth instead of esteem (3), no masculine 'juntos/ambos' "
                "(4, 6), a priority instead of a preference (8), plain words (11), and "
                "answers 3 and 4 in an order that reads the same in Mexico and Spain."
            ),
        ),
    ),
}

#: The wording of items whose construct changed, as earlier versions asked them (English).
EARLIER_WORDING: dict[tuple[str, str, int], str] = {
    ("alliance4", "overall", 1): "Overall, how did today's session feel to you?",
}


def wording_versions(instrument_id: str) -> tuple[WordingVersion, ...]:
    """Every wording of an instrument, oldest first; a clinic's own instrument has one."""
    return WORDING_VERSIONS.get(instrument_id) or (WordingVersion(1, "", note="First wording."),)


def current_wording_version(instrument_id: str) -> int:
    return wording_versions(instrument_id)[-1].number


def comparable_items(instrument_id: str, first: int, second: int) -> tuple[str, ...]:
    """The items whose answers mean the same under both wording versions."""
    low, high = sorted((first, second))
    changed = {
        key
        for version in wording_versions(instrument_id)
        if low < version.number <= high
        for key in version.construct_changed
    }
    return tuple(key for key in get_instrument(instrument_id).item_keys if key not in changed)
