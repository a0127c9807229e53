"""À faire: the letters waiting for something from a person, and what each waits for
(the steps expected of them, from the table, that they have not done yet)."""

from __future__ import annotations

from dataclasses import dataclass

from governance.models import Role, User
from governance.selectors import HeldRole
from workflow.lifecycle.engine import AvailableTransition, available_transitions
from workflow.models import LetterState, MissionLetter
from workflow.selectors.actors import actors_for
from workflow.selectors.visibility import visible_letters

# The most recently changed letters considered: a person acts on a few at a time.
RECENT = 100


@dataclass(frozen=True)
class ToDo:
    letter: MissionLetter
    actions: list[AvailableTransition]


def to_do(user: User, roles: list[HeldRole]) -> list[ToDo]:
    """The letters still open that wait for ``user`` (holding ``roles``), newest change
    first. The DAN's role and the national one have no step to take on a letter."""
    acting = any(assignment.role not in (Role.DAN, Role.NATIONAL) for assignment in roles)
    if not acting and not user.referent_of.exists():
        return []
    letters = list(
        visible_letters(user)
        .exclude(state__in=[LetterState.CLOSED, LetterState.WITHDRAWN])
        .order_by("-updated_at")[:RECENT]
    )
    items = []
    for letter, actor in zip(letters, actors_for(user, letters, roles), strict=True):
        actions = [t for t in available_transitions(letter, user, actor) if t.to_do]
        if actions:
            items.append(ToDo(letter, actions))
    return items
