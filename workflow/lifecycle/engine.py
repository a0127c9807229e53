"""The engine: ``fire_transition``, the only way a letter's state changes, and
``available_transitions``, what a person may fire now. Both read the table
(``workflow.lifecycle.table``); neither knows any transition by name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed

from governance.models import (
    User,
)
from workflow.audit.versions import write_version
from workflow.errors import (
    AlreadyDone,
    ConditionsUnmet,
    InvalidInput,
    NotPermitted,
    TransitionNotAllowed,
    UnknownTransition,
    Unmet,
)
from workflow.lifecycle.spec import TransitionSpec
from workflow.lifecycle.table import TRANSITIONS
from workflow.models import (
    LetterState,
    MissionLetter,
)
from workflow.selectors.actors import Actor, actor_for
from workflow.services.writes import locked_letter, record_write


def _parse_payload(spec: TransitionSpec, payload: Mapping[str, Any] | None) -> dict[str, Any]:
    form = spec.payload(data=dict(payload or {}))
    if not form.is_valid():
        raise InvalidInput(
            {name: [str(m) for m in messages] for name, messages in form.errors.items()}
        )
    return dict(form.cleaned_data)


def fire_transition(
    *,
    letter_id: int,
    name: str,
    user: User | None,
    payload: Mapping[str, Any] | None = None,
) -> MissionLetter:
    """Fire transition ``name`` on a letter as ``user`` (``None``: the scheduler).

    In one transaction: lock the letter's row; check the person may see it (else
    ``LetterNotFound``), may fire this (``NotPermitted``), that the state allows it
    (``TransitionNotAllowed``), the payload (``InvalidInput``) and the guards
    (``ConditionsUnmet``); apply it; save; write the audit event and the outbox rows.
    A request that lost a race against another on the same letter finds the state
    changed and gets ``TransitionNotAllowed``.
    """
    spec = TRANSITIONS.get(name)
    if spec is None:
        raise UnknownTransition(_("Transition inconnue : %(name)s.") % {"name": name})
    try:
        with transaction.atomic():
            letter, actor = locked_letter(letter_id, user)
            if not spec.who(actor, letter):
                raise NotPermitted(
                    _("« %(label)s » n'est pas de votre ressort sur cette lettre.")
                    % {"label": spec.label}
                )
            if not can_proceed(getattr(letter, spec.name), check_conditions=False):
                raise TransitionNotAllowed(
                    _(
                        "« %(label)s » n'est pas possible quand la lettre est à l'état "
                        "« %(state)s »."
                    )
                    % {"label": spec.label, "state": LetterState(letter.state).label}
                )
            data = _parse_payload(spec, payload)
            unmet = spec.guard(letter, actor)
            if unmet and all(condition.done for condition in unmet):
                raise AlreadyDone(unmet)
            if unmet:
                raise ConditionsUnmet(unmet)
            from_state = letter.state
            audit_payload = spec.perform(letter, actor, data)
            letter.save()
            write_version(letter, by=actor.user, working=from_state == LetterState.DRAFT)
            record_write(
                letter,
                actor=actor,
                told=spec.notify(letter),
                actor_told=spec.tells_actor,
                action=spec.name,
                from_state=from_state,
                payload=audit_payload,
            )
    except ConcurrentTransition as exc:
        raise TransitionNotAllowed(
            _("La lettre a été modifiée par une autre action au même moment : rechargez-la.")
        ) from exc
    return letter


@dataclass(frozen=True)
class AvailableTransition:
    """A transition a person may fire from the letter's state, with the conditions
    still unmet (none: it can be fired now)."""

    spec: TransitionSpec
    unmet: list[Unmet]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def label(self) -> str:
        return str(self.spec.label)

    @property
    def target(self) -> str:
        return self.spec.target

    @property
    def ready(self) -> bool:
        return not self.unmet

    @property
    def done(self) -> bool:
        """The person has already done it (agreed to this version, signed it)."""
        return any(unmet.done for unmet in self.unmet)

    @property
    def to_do(self) -> bool:
        """A step expected of the person and not yet done: their À faire."""
        return self.spec.to_do and not self.done


def available_transitions(
    letter: MissionLetter, user: User, actor: Actor | None = None
) -> list[AvailableTransition]:
    """The transitions ``user`` may fire from the letter's current state, each with the
    guards still unmet (empty: it can be fired now). ``actor``: ``user`` as
    ``actors_for`` read them for many letters at once."""
    if actor is None:
        actor = actor_for(user, letter)
    if not actor.can_see:
        return []
    return [
        AvailableTransition(spec, spec.guard(letter, actor))
        for spec in TRANSITIONS.values()
        if spec.who(actor, letter)
        and can_proceed(getattr(letter, spec.name), check_conditions=False)
    ]
