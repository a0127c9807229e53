"""« Relancer »: the principal (or the deputy by delegation) asks whoever a letter waits
for to act, by e-mail, at once (DESIGN §6).

At most once a day per person and letter: a second « Relancer » the same day is
refused with the time of the first, so that nobody is sent the same request twice in
a day by two clicks or by the principal and the deputy. Each relance is a step of the
letter's history (its audit event names who was reminded), and its e-mails go through
the outbox like every other.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import User
from workflow.errors import AlreadyReminded, NotAwaited, NotPermitted
from workflow.lifecycle.awaited import (
    REMIND_ACTION,
    Relance,
    awaited_people,
    reminded_today,
)
from workflow.services.writes import locked_letter, record_write

# The e-mail's topic (``notifications.emails.TOPICS``).
REMINDER_TOPIC = "reminder_requested"


def _name(user: User) -> str:
    return user.get_full_name() or user.username


def relance_time(relance: Relance) -> str:
    """The time of a relance as the French write it: « 14 h 02 » (Europe/Paris)."""
    moment = timezone.localtime(relance.at)
    return f"{moment.hour} h {moment:%M}"


def _already(people: dict[int, User], done: dict[int, Relance]) -> AlreadyReminded:
    details = [
        _("Déjà relancé aujourd'hui à %(time)s par %(by)s : %(person)s.")
        % {"time": relance_time(done[pk]), "by": done[pk].by, "person": _name(user)}
        for pk, user in people.items()
    ]
    return AlreadyReminded(
        " ".join(details),
        [
            {"user": user.username, "at": done[pk].at.isoformat(), "by": done[pk].by}
            for pk, user in people.items()
        ],
    )


def remind_awaited(*, letter_id: int, user: User, person_id: int | None = None) -> list[User]:
    """Send « Relancer » about the letter to ``person_id``, or (``None``) to everyone it
    waits for who has not been reminded today; the people reminded, in the order the
    letter waits for them. Refused: ``NotPermitted`` unless the person acts for the
    principal; ``NotAwaited`` when the letter does not wait for that person (or for
    anybody); ``AlreadyReminded`` when each of them was already reminded today."""
    with transaction.atomic():
        letter, actor = locked_letter(letter_id, user)
        if not actor.acts_for_principal:
            raise NotPermitted(
                _("Seul le chef d'établissement (ou son adjoint par délégation) peut relancer.")
            )
        awaited = [pk for pk in awaited_people(letter) if pk != user.pk]
        if person_id is not None and person_id not in awaited:
            raise NotAwaited(_("La lettre n'attend rien de cette personne à cette étape."))
        if not awaited:
            raise NotAwaited(_("La lettre n'attend personne à relancer à cette étape."))
        wanted = [person_id] if person_id is not None else awaited
        users = User.objects.in_bulk(wanted)
        done = reminded_today(letter)
        targets = [users[pk] for pk in wanted if pk in users and pk not in done]
        if not targets:
            raise _already({pk: users[pk] for pk in wanted if pk in users}, done)
        record_write(
            letter,
            actor=actor,
            told=[(person, REMINDER_TOPIC) for person in targets],
            action=REMIND_ACTION,
            from_state=letter.state,
            payload={
                "people": [person.pk for person in targets],
                "names": [_name(person) for person in targets],
            },
        )
    return targets
