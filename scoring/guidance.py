"""What a clinician can do about each flag, in the spirit of rupture repair.

The texts follow the rupture-repair literature (Safran & Muran 2000; Eubanks, Muran &
Safran 2018): name what you noticed, invite the client's view, validate before changing
course, and see how the next session goes. They suggest, they do not prescribe.
"""

from __future__ import annotations

GUIDANCE: dict[str, str] = {
    "below_cutoff": (
        "Mention the lower rating early next session and ask what did not work for them; "
        "thank them for saying so before you adjust anything."
    ),
    "item_low": (
        "Name the area the client rated lower and ask what would make it better; "
        "take their view seriously before suggesting changes."
    ),
    "drop_from_previous": (
        "A small dip: keep it in mind and check in lightly about how the last session felt."
    ),
    "reliable_drop": (
        "This drop is larger than measurement noise. Name it, invite the client's view of "
        "what happened, validate it, and agree together whether to change course."
    ),
    "below_personal_baseline": (
        "This rating is low for this client. Say you noticed, ask what felt different, "
        "acknowledge your part, and watch how the next session goes."
    ),
    "downward_trend": (
        "The alliance has been slipping for several sessions. Step back with the client: "
        "are the goals and the way you work still right for them?"
    ),
    "missing_ratings": (
        "Ratings have stopped. Ask how the feedback is going for them; disengagement from "
        "feedback can be an early sign of a strain in the relationship."
    ),
    "client_wants_to_talk": (
        "The client asked to talk about how therapy is going. Make room for it at the start "
        "of the next session and listen before responding."
    ),
    "ceiling_no_variance": (
        "Perfect ratings every time can mean politeness. Invite honest feedback: say that "
        "hearing what works less well helps you help them."
    ),
}

EPISODE_GUIDANCE: dict[str, str] = {
    "open": "Revisit the strain openly; see whether the next sessions bring the rating back.",
    "repaired": "The alliance recovered. Repaired ruptures go with better outcomes.",
    "unrepaired": (
        "The alliance has not recovered. Consider supervision and an explicit conversation "
        "about whether this way of working still fits the client."
    ),
}
