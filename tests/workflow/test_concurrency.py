"""Two requests on one letter at the same moment (DESIGN §4): ``fire_transition`` locks
the row, so the loser of a race finds the state changed and is refused with
``TransitionNotAllowed``; exactly one audit event is written. Behind the lock,
``ConcurrentTransitionMixin`` refuses to save a stale copy of the letter."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, transaction
from django_fsm import ConcurrentTransition

from governance.models import User
from tests.factories import School, advance, make_letter, make_school, shown
from workflow.audit.chain import verify_chains
from workflow.errors import TransitionNotAllowed
from workflow.lifecycle.engine import fire_transition
from workflow.models import AuditEvent, LetterReferent, MissionLetter, OutboxItem

ROUNDS = 5


@dataclass
class Outcome:
    letter: MissionLetter | None = None
    error: Exception | None = None


@dataclass(frozen=True)
class Call:
    name: str
    user: User
    payload: Mapping[str, Any] | None = None


def _at_once(letter_id: int, calls: list[Call]) -> list[Outcome]:
    """Fire ``calls`` on the letter from as many threads, released together."""
    barrier = threading.Barrier(len(calls))
    outcomes = [Outcome() for _call in calls]

    def run(call: Call, outcome: Outcome) -> None:
        try:
            connection.ensure_connection()  # connected before the start, not after
            barrier.wait(timeout=10)
            outcome.letter = fire_transition(
                letter_id=letter_id, name=call.name, user=call.user, payload=call.payload
            )
        except Exception as exc:
            outcome.error = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(call, outcome))
        for call, outcome in zip(calls, outcomes, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a request hung on the lock"
    return outcomes


def _one_winner(outcomes: list[Outcome]) -> tuple[int, TransitionNotAllowed]:
    """Exactly one request succeeded, the other was refused as a lost race. The
    winner's index and the loser's error."""
    winners = [i for i, o in enumerate(outcomes) if o.error is None]
    errors = [o.error for o in outcomes if o.error is not None]
    assert len(winners) == 1, f"expected one success, got errors {errors!r}"
    assert len(errors) == 1
    error = errors[0]
    assert isinstance(error, TransitionNotAllowed), repr(error)
    assert error.code == "transition_not_allowed"
    return winners[0], error


def _school_and_letter(round_: int, prefix: str, state: str) -> tuple[School, MissionLetter]:
    school = make_school(f"{prefix}{round_}")
    return school, advance(make_letter(school), school, state)


def _agree_all(school: School, letter: MissionLetter) -> None:
    for referent in (school.referent1, school.referent2):
        fire_transition(letter_id=letter.pk, name="agree", user=referent, payload=shown(letter))


def _events(letter: MissionLetter, action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(letter=letter, action=action))


def _assert_history_consistent(letter: MissionLetter) -> None:
    events = list(AuditEvent.objects.filter(letter=letter).order_by("sequence"))
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert events[-1].to_state == MissionLetter.objects.get(pk=letter.pk).state
    # One archive request per event, none left behind by the refused request.
    assert OutboxItem.objects.filter(letter=letter, kind="archive").count() == len(events)
    assert OutboxItem.objects.filter(letter=letter).exclude(event__in=events).count() == 0
    assert verify_chains() == []


@pytest.mark.parametrize("round_", range(ROUNDS))
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_same_submission_twice_at_once(round_: int) -> None:
    school, letter = _school_and_letter(round_, "Soumission", "concertation")
    _agree_all(school, letter)
    before = AuditEvent.objects.filter(letter=letter).count()

    outcomes = _at_once(
        letter.pk,
        [
            Call("submit_to_pedagogical_council", school.principal),
            Call("submit_to_pedagogical_council", school.deputy),
        ],
    )

    _winner, error = _one_winner(outcomes)
    assert "Soumettre au conseil pédagogique" in error.detail
    assert "« Avis du conseil pédagogique »" in error.detail  # the state it found
    assert len(_events(letter, "submit_to_pedagogical_council")) == 1
    assert AuditEvent.objects.filter(letter=letter).count() == before + 1
    assert MissionLetter.objects.get(pk=letter.pk).state == "pedagogical_council"
    _assert_history_consistent(letter)


@pytest.mark.parametrize("round_", range(ROUNDS))
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_same_withdrawal_twice_at_once(round_: int) -> None:
    school, letter = _school_and_letter(round_, "Abandon", "board")
    reasons = ["Départ du référent", "Projet abandonné"]

    outcomes = _at_once(
        letter.pk,
        [
            Call("withdraw", school.principal, {"reason": reasons[0]}),
            Call("withdraw", school.deputy, {"reason": reasons[1]}),
        ],
    )

    winner, error = _one_winner(outcomes)
    assert "Abandonner la lettre" in error.detail
    assert "« Abandonnée »" in error.detail
    events = _events(letter, "withdraw")
    assert len(events) == 1
    assert events[0].payload["reason"] == reasons[winner]
    assert (events[0].from_state, events[0].to_state) == ("board", "withdrawn")
    _assert_history_consistent(letter)


@pytest.mark.parametrize("round_", range(ROUNDS))
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_submission_and_return_to_draft_at_once(round_: int) -> None:
    """Two different transitions from the same state, neither possible after the other:
    one wins, the other finds the state the winner left."""
    school, letter = _school_and_letter(round_, "Choix", "concertation")
    _agree_all(school, letter)

    outcomes = _at_once(
        letter.pk,
        [
            Call("submit_to_pedagogical_council", school.principal),
            Call("return_to_draft", school.deputy, {"reason": "Missions à revoir"}),
        ],
    )

    winner, error = _one_winner(outcomes)
    state = MissionLetter.objects.get(pk=letter.pk).state
    assert state == ["pedagogical_council", "draft"][winner]
    assert "n'est pas possible" in error.detail
    assert (
        len(_events(letter, "submit_to_pedagogical_council"))
        + len(_events(letter, "return_to_draft"))
        == 1
    )
    _assert_history_consistent(letter)


@pytest.mark.parametrize("round_", range(ROUNDS))
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_referents_agree_at_once(round_: int) -> None:
    """Agreements do not conflict: both are recorded, each with its own event."""
    school, letter = _school_and_letter(round_, "Accord", "concertation")

    outcomes = _at_once(
        letter.pk,
        [
            Call("agree", school.referent1, shown(letter)),
            Call("agree", school.referent2, shown(letter)),
        ],
    )

    assert [o.error for o in outcomes] == [None, None]
    events = _events(letter, "agree")
    assert len(events) == 2
    assert {e.actor_id for e in events} == {school.referent1.pk, school.referent2.pk}
    assert all((e.from_state, e.to_state) == ("concertation", "concertation") for e in events)
    assert list(
        LetterReferent.objects.filter(letter=letter).values_list("agreed_version", flat=True)
    ) == [1, 1]
    _assert_history_consistent(letter)


@pytest.mark.django_db
def test_a_stale_copy_cannot_be_saved_after_a_transition() -> None:
    """``ConcurrentTransitionMixin`` is active: a copy loaded before another transition
    went through cannot save its own transition over it."""
    school = make_school("Verrou")
    letter = make_letter(school)
    copy_a = MissionLetter.objects.get(pk=letter.pk)
    copy_b = MissionLetter.objects.get(pk=letter.pk)

    fire_transition(letter_id=copy_a.pk, name="open_concertation", user=school.principal)

    with transaction.atomic():
        copy_b.open_concertation()  # still "draft" in memory: the method lets it
        with pytest.raises(ConcurrentTransition):
            copy_b.save()
    assert MissionLetter.objects.get(pk=letter.pk).state == "concertation"
    assert AuditEvent.objects.filter(letter=letter).count() == 2  # create, the real one
    # A fresh copy saves: the refusal above is about staleness, not the transition.
    with transaction.atomic():
        fresh = MissionLetter.objects.get(pk=letter.pk)
        fresh.withdraw()
        fresh.save()
    assert MissionLetter.objects.get(pk=letter.pk).state == "withdrawn"


@pytest.mark.parametrize("round_", range(ROUNDS))
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_signature_twice_at_once(round_: int) -> None:
    """A second click racing the first: one signature, the other request told 409
    ``transition_not_allowed`` (it lost the race), as for any transition."""
    school, letter = _school_and_letter(round_, "Signature", "signature")
    outcomes = _at_once(
        letter.pk,
        [
            Call("sign", school.principal, shown(letter)),
            Call("sign", school.principal, shown(letter)),
        ],
    )
    _winner, error = _one_winner(outcomes)
    assert "déjà signé" in error.detail
    assert len(_events(letter, "sign")) == 1
    _assert_history_consistent(letter)


@pytest.mark.parametrize("round_", range(ROUNDS))
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_agreement_twice_at_once(round_: int) -> None:
    school, letter = _school_and_letter(round_, "Deuxclics", "concertation")
    outcomes = _at_once(
        letter.pk,
        [
            Call("agree", school.referent1, shown(letter)),
            Call("agree", school.referent1, shown(letter)),
        ],
    )
    _winner, error = _one_winner(outcomes)
    assert "déjà donné votre accord" in error.detail
    assert len(_events(letter, "agree")) == 1
    _assert_history_consistent(letter)
