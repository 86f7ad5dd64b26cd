"""What a clinician can do about each flag, matched to how sure the flag is.

The texts follow the rupture-repair literature (Safran & Muran 2000; Eubanks, Muran &
Safran 2018): for a probable rupture, name what you noticed, invite the client's view,
acknowledge your part, and watch the next session. A possible dip only asks for a
check-in; a standing low level turns to fit, goals and, where it serves the client, a
referral (a client is never obliged to stay with a therapist who isn't the right fit).
They suggest, they do not prescribe.
"""

from __future__ import annotations

import numpy as np

from scoring.vocabulary import EpisodeStatus, Level

_REPAIR_STEPS = (
    "Name what you noticed, invite the client's view of what happened, acknowledge your "
    "part in it, and watch how the next session goes."
)
_FIT = (
    "Talk openly about fit: are the goals and the way you work right for this client? "
    "If another therapist or service would serve them better, a referral is a good outcome."
)

#: Guidance per rule; ``LEVEL_GUIDANCE`` overrides it for one level of a rule.
GUIDANCE: dict[str, str] = {
    "client_wants_to_talk": (
        "The client asked to talk about how your sessions are going. Make room for it at "
        "the start of the next session (or sooner) and listen before responding."
    ),
    "rupture_not_repaired": (
        "The alliance has not come back after a rupture. Raise it before or at the start of "
        "the next session, consider supervision, and talk about fit. " + _FIT
    ),
    "below_personal_baseline": "This rating is low for this client. " + _REPAIR_STEPS,
    "below_cutoff": (
        "Mention the lower ratings early next session and ask what is not working for the "
        "client; thank them for saying so before you adjust anything."
    ),
    "item_low": (
        "Context: the part of the alliance the client rated lower. Ask about it when you "
        "next talk about how the sessions are going."
    ),
    "ceiling_no_variance": (
        "Perfect ratings every time can mean politeness. Invite honest feedback: say that "
        "hearing what works less well helps you help them."
    ),
    "missing_ratings": (
        "Ratings have stopped. Ask how the feedback is going for them; disengagement from "
        "feedback can be an early sign of a strain in the relationship."
    ),
}
LEVEL_GUIDANCE: dict[tuple[str, Level], str] = {
    ("below_personal_baseline", Level.possible): (
        "Possibly just an ordinary week. Check in lightly: ask how the last session was for "
        "them, and see whether the next rating comes back."
    ),
    ("below_personal_baseline", Level.probable): ("A rupture is likely. " + _REPAIR_STEPS),
    ("below_personal_baseline", Level.far): (
        "Far below anything this client has rated. Consider contact before the next "
        "session. " + _REPAIR_STEPS
    ),
    ("below_cutoff", Level.from_start): ("The working alliance may never have formed. " + _FIT),
}

EPISODE_GUIDANCE: dict[str, str] = {
    EpisodeStatus.open: "Revisit the strain openly; see whether the next sessions bring it back.",
    EpisodeStatus.repaired: "The alliance recovered. Repaired ruptures go with better outcomes.",
    EpisodeStatus.unrepaired: (
        "The alliance has not recovered. Consider supervision and an explicit conversation "
        "about whether this way of working still fits the client."
    ),
}

#: Every guidance text once, so the flag frame can hold it as a categorical.
GUIDANCE_TEXTS: tuple[str, ...] = (*GUIDANCE.values(), *LEVEL_GUIDANCE.values())
_LEVELS: tuple[Level, ...] = tuple(Level)


def guidance_text(rule: str, level: Level | None) -> str:
    """The guidance for one flag of ``rule`` at ``level`` (None: the rule names no level)."""
    if level is None:
        return GUIDANCE[rule]
    return LEVEL_GUIDANCE.get((rule, level), GUIDANCE[rule])


def guidance_codes(rule: str, level: np.ndarray) -> np.ndarray:
    """Codes into ``GUIDANCE_TEXTS`` for one rule's hits, by each hit's level (-1: none)."""
    codes = np.full(len(level), GUIDANCE_TEXTS.index(GUIDANCE[rule]), dtype=np.int64)
    for (name, lv), text in LEVEL_GUIDANCE.items():
        if name == rule:
            codes[level == _LEVELS.index(lv)] = GUIDANCE_TEXTS.index(text)
    return codes
