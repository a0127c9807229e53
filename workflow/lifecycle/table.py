"""The lifecycle's table: every transition of DESIGN §4 by name, gathered from its
family's module, and what is read from it as a whole (whom a letter waits for, the
French name of a step of the history)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from workflow.lifecycle import concertation, councils, report, signature, withdrawal
from workflow.lifecycle.spec import TransitionSpec, Waiting
from workflow.models import LetterState

TRANSITIONS: dict[str, TransitionSpec] = {
    spec.name: spec
    for family in (concertation, councils, signature, report, withdrawal)
    for spec in family.SPECS
}

# Steps of the history that are not transitions.
OTHER_ACTIONS = {
    "create": gettext_lazy("Création de la lettre"),
    "edit": gettext_lazy("Modification du contenu en concertation"),
    "remind": gettext_lazy("Relance envoyée"),
}


def action_label(action: str) -> str:
    """The French name of a step of the history (its audit ``action``)."""
    if action in TRANSITIONS:
        return str(TRANSITIONS[action].label)
    return str(OTHER_ACTIONS.get(action, action))


def version_sharing_actions() -> list[str]:
    """The steps of the history that put a new version before the référents: each
    transition into concertation from elsewhere, and an edit made in concertation."""
    into_concertation = [
        name
        for name, spec in TRANSITIONS.items()
        if spec.target == LetterState.CONCERTATION and LetterState.CONCERTATION not in spec.sources
    ]
    return [*into_concertation, "edit"]


def awaited_people(waiting: Waiting) -> list[int]:
    """The user ids the letter waits for in its current state: whoever is expected to
    fire one of the steps open from it, in the table's order, each once."""
    people: dict[int, None] = {}
    for spec in TRANSITIONS.values():
        if spec.awaits is not None and waiting.letter.state in spec.sources:
            people.update(dict.fromkeys(spec.awaits(waiting)))
    return list(people)
