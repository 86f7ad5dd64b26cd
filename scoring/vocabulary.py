"""The clinical vocabulary, defined once: severities, statuses, actions and rule levels.

The database's CHECK constraints, the API's types, every severity ranking and the
dashboard's labels derive from these enums, so a word can only mean one thing.
"""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    """How soon a flag needs the therapist, least pressing first (the order is the rank).

    info: context, nothing to do. talk: worth raising in the next session.
    warning: a probable rupture. urgent: before the next session (a request to talk, a
    drop far outside this client's range, a rupture left unrepaired).
    """

    info = "info"
    talk = "talk"
    warning = "warning"
    urgent = "urgent"

    @property
    def rank(self) -> int:
        """0 for the most pressing; the order every list of flags uses."""
        return len(SEVERITY_ORDER) - 1 - SEVERITY_ORDER.index(self)


#: Least pressing first; ``Severity.rank`` counts from the other end.
SEVERITY_ORDER: tuple[Severity, ...] = tuple(Severity)


class FlagStatus(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"
    #: Scoring no longer raises it (the data or the rules changed); the reason is kept.
    withdrawn = "withdrawn"


#: Flags that still ask for the therapist's attention.
LIVE_FLAG_STATUSES: tuple[FlagStatus, ...] = (FlagStatus.open, FlagStatus.acknowledged)


class Resolution(StrEnum):
    """Who or what closed a flag."""

    therapist = "therapist"
    #: The rupture episode the (numeric) flag belongs to was repaired.
    repaired = "repaired"


class EpisodeStatus(StrEnum):
    open = "open"
    repaired = "repaired"
    unrepaired = "unrepaired"


class Action(StrEnum):
    """What the therapist did about a flag: a fixed list, so supervisors can count it."""

    #: What the therapist means to do, not what was done: completed later.
    planned_next_session = "planned_next_session"
    raised_in_session = "raised_in_session"
    adjusted_approach = "adjusted_approach"
    checked_in_outside_session = "checked_in_outside_session"
    consulted_supervisor = "consulted_supervisor"
    referred = "referred"
    no_action_needed = "no_action_needed"
    #: Says nothing by itself: the note must say what was done.
    other = "other"


#: Actions that record an intention: the flag stays acknowledged until what was done is.
PLANNED_ACTIONS: tuple[Action, ...] = (Action.planned_next_session,)
#: Actions whose note is required.
ACTIONS_NEEDING_A_NOTE: tuple[Action, ...] = (Action.other,)


class Level(StrEnum):
    """How far a rating sits from the client's own range, or how a standing condition began."""

    #: One rating somewhat below the client's usual range: check in.
    possible = "possible"
    #: A probable rupture: clearly below the usual range, or a run below it that adds up.
    probable = "probable"
    #: Far outside anything this client has shown.
    far = "far"
    #: Below the cutoff from the first ratings: the alliance may never have formed.
    from_start = "from_start"


def values(enum: type[StrEnum]) -> tuple[str, ...]:
    """The enum's values as plain strings, in definition order (for CHECKs and Literals)."""
    return tuple(member.value for member in enum)
