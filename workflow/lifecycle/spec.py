"""What defines a transition (``TransitionSpec``) and the pieces the families share:
who may fire, whom to tell, the check that a person acts on the version shown.

A transition's states are those of the model's ``@transition`` decorator, read from it
(``sources``, ``target``); everything else about it lives in its ``TransitionSpec``,
which the engine, the pages, the API, the to-do list and the reminders all read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy
from django_fsm import RETURN_VALUE

from governance.models import Role, User
from workflow.audit.versions import current_version
from workflow.errors import SnapshotMismatch, Unmet
from workflow.lifecycle.payloads import NoPayload
from workflow.models import LetterState, MissionLetter, Signature
from workflow.selectors.actors import Actor
from workflow.services.writes import Recipients

Data = dict[str, Any]


class Presentation(StrEnum):
    """How a page offers a transition to whoever may fire it."""

    PRIMARY = "primary"  # the step expected of them: a to-do, the main button
    SECONDARY = "secondary"  # open to them but not expected (going back, ending early)
    DESTRUCTIVE = "destructive"  # cannot be undone: the page asks for confirmation


class Form(StrEnum):
    """What the page's form for a transition asks (its fields follow the payload)."""

    PLAIN = "plain"
    REASON = "reason"
    AGREE = "agreement"  # the version on screen, by its sha256
    SIGN = "signature"  # the same, with the PDF to sign
    PAPER = "paper"  # a signatory still awaited, and the scan of what they signed by hand
    SUBMIT = "submit"  # a meeting to come, optional
    OPINION = "opinion"  # a meeting held, the opinion, its votes


@dataclass(frozen=True)
class Waiting:
    """What a letter waits on, as the reminders' sweep reads it for many letters at
    once: its référents (user id, version agreed to) in order, the signatures of its
    current version, and the ids of whoever holds a role in its establishment."""

    letter: MissionLetter
    referents: list[tuple[int, int | None]]
    signatures: list[Signature]
    holders: Callable[[str], list[int]]


# Who may fire -------------------------------------------------------------------------


def by_head(actor: Actor, letter: MissionLetter) -> bool:
    return actor.acts_for_principal


def by_referent(actor: Actor, letter: MissionLetter) -> bool:
    return actor.is_referent


def by_head_or_referent(actor: Actor, letter: MissionLetter) -> bool:
    return actor.acts_for_principal or actor.is_referent


def by_system_or_head(actor: Actor, letter: MissionLetter) -> bool:
    return actor.is_system or actor.acts_for_principal


def by_holder_or_head(role: Role) -> Callable[[Actor, MissionLetter], bool]:
    """Whoever holds ``role`` in the establishment, or the principal's side."""

    def who(actor: Actor, letter: MissionLetter) -> bool:
        return role in actor.roles or actor.acts_for_principal

    return who


def no_guard(letter: MissionLetter, actor: Actor) -> list[Unmet]:
    return []


def tell(users: list[User], topic: str) -> Recipients:
    return [(user, topic) for user in users]


def require_shown_version(letter: MissionLetter, data: Data, refusal: str) -> str:
    """The sha256 of the version standing now, which must be the one the person was
    shown (``data["snapshot_sha256"]``); else ``SnapshotMismatch`` with ``refusal``."""
    current = current_version(letter).content_sha256
    if data["snapshot_sha256"] != current:
        raise SnapshotMismatch(refusal % {"version": letter.version})
    return current


@dataclass(frozen=True)
class TransitionSpec:
    """One transition of DESIGN §4, defined once.

    ``who`` may fire it; ``payload`` is the form of what it takes; ``guard`` lists the
    conditions still unmet; ``perform`` applies it (and returns the audit payload);
    ``notify`` says whom to tell once it is done; ``awaits`` (for a step expected of
    someone) says whom the letter is waiting for, which the reminders chase;
    ``presentation`` and ``form`` say how a page offers it.
    """

    name: str
    label: Promise
    who: Callable[[Actor, MissionLetter], bool]
    perform: Callable[[MissionLetter, Actor, Data], Data]
    payload: type[forms.Form] = NoPayload
    guard: Callable[[MissionLetter, Actor], list[Unmet]] = no_guard
    notify: Callable[[MissionLetter], Recipients] = field(default=lambda letter: [])
    # The topics of ``notify`` the person who fired it is told of too (the last
    # signatory learns, like every other, that the letter is in force).
    tells_actor: frozenset[str] = frozenset()
    awaits: Callable[[Waiting], list[int]] | None = None
    presentation: Presentation = Presentation.PRIMARY
    form: Form = Form.PLAIN
    council: str = ""  # the council whose meetings the form offers
    # What the person is told once it is done: what happened and what comes next
    # (``%(version)s``, ``%(state)s``: the letter's, after the step).
    done: Promise | None = None

    @property
    def _fsm(self) -> list[Any]:
        field = MissionLetter._meta.get_field("state")
        return [t for t in field.get_all_transitions(MissionLetter) if t.name == self.name]

    @property
    def sources(self) -> frozenset[str]:
        """The states it may be fired from (the model's decorator)."""
        return frozenset(t.source for t in self._fsm)

    @property
    def target(self) -> str:
        """The state it leads to (the first of several, for a target chosen on firing)."""
        target = self._fsm[0].target
        if isinstance(target, RETURN_VALUE):
            return str(target.allowed_states[0])
        return str(target)

    @property
    def to_do(self) -> bool:
        """Whether it is a step expected of whoever may fire it (their À faire)."""
        return self.presentation == Presentation.PRIMARY

    def done_message(self, letter: MissionLetter) -> str:
        template = self.done or gettext_lazy(
            "« %(label)s » : c'est fait. La lettre est à l'étape « %(state)s »."
        )
        return str(template) % {
            "label": self.label,
            "version": letter.version,
            "state": LetterState(letter.state).label,
        }

    @property
    def needs_reason(self) -> bool:
        return "reason" in self.payload.base_fields


S = LetterState
