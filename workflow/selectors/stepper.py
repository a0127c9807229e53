"""Where a letter stands in its lifecycle, for the pages' stepper."""

from __future__ import annotations

from workflow.models import LetterState, MissionLetter

LIFECYCLE = [
    LetterState.DRAFT,
    LetterState.CONCERTATION,
    LetterState.PEDAGOGICAL_COUNCIL,
    LetterState.BOARD,
    LetterState.SIGNATURE,
    LetterState.IN_FORCE,
    LetterState.REPORT_DUE,
    LetterState.REPORT_SUBMITTED,
    LetterState.CLOSED,
]


def lifecycle_step(letter: MissionLetter) -> tuple[int, int, str | None]:
    """(current step, total steps, next step's label) for the stepper of a letter."""
    if letter.state not in LIFECYCLE:
        return 0, len(LIFECYCLE), None
    index = LIFECYCLE.index(LetterState(letter.state))
    following = LIFECYCLE[index + 1].label if index + 1 < len(LIFECYCLE) else None
    return index + 1, len(LIFECYCLE), str(following) if following else None
