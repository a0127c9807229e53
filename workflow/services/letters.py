"""Beginning a letter: a new draft for a school year, or next year's draft renewed
from a letter in force. One letter per establishment and school year.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from governance.models import (
    Establishment,
    SchoolYear,
    User,
)
from workflow.audit.versions import write_version
from workflow.errors import (
    InvalidInput,
    LetterExists,
    TransitionNotAllowed,
)
from workflow.models import (
    RENEWABLE_STATES,
    LetterIndicator,
    LetterMission,
    LetterReferent,
    LetterState,
    MissionLetter,
    PeriodKind,
)
from workflow.selectors.actors import actor_for
from workflow.services.writes import locked_letter, record_write, require_head


def _refuse_a_second_letter(establishment: Establishment, school_year: SchoolYear) -> None:
    """``LetterExists`` if the establishment has a letter (not withdrawn) for the year.
    The establishment's row is locked first, so that two drafts begun at once cannot
    both pass."""
    Establishment.objects.select_for_update().filter(pk=establishment.pk).first()
    existing = (
        MissionLetter.objects.filter(establishment=establishment, school_year=school_year)
        .exclude(state=LetterState.WITHDRAWN)
        .values_list("pk", flat=True)
        .first()
    )
    if existing is not None:
        raise LetterExists(
            _(
                "%(establishment)s a déjà une lettre de mission pour %(year)s (n° %(id)s) : "
                "reprenez-la plutôt que d'en commencer une autre."
            )
            % {"establishment": establishment.name, "year": school_year.code, "id": existing},
            existing,
        )


def create_letter(
    *,
    user: User,
    establishment: Establishment,
    school_year: SchoolYear,
) -> MissionLetter:
    """A new draft for the whole school year, by the principal (or deputy by delegation).
    An establishment has one letter a school year: while it has one not withdrawn, a
    second is refused (``LetterExists``, naming it)."""
    with transaction.atomic():
        _refuse_a_second_letter(establishment, school_year)
        letter = MissionLetter(
            establishment=establishment,
            school_year=school_year,
            created_by=user,
            period_kind=PeriodKind.SCHOOL_YEAR,
            period_start=school_year.starts_on,
            period_end=school_year.ends_on,
        )
        actor = actor_for(user, letter)
        require_head(actor)
        letter.save()
        write_version(letter, by=user, working=True)
        record_write(letter, actor=actor, told=[], action="create")
    return letter


def renew_letter(*, letter_id: int, user: User, school_year: SchoolYear) -> MissionLetter:
    """Copy a letter (in force or later) into a draft for another school year: same
    référents (agreements to give again), missions, indicators, means and follow-up."""
    with transaction.atomic():
        source, actor = locked_letter(letter_id, user)
        require_head(actor)
        if source.state not in RENEWABLE_STATES:
            raise TransitionNotAllowed(
                _("Seule une lettre entrée en vigueur peut être reconduite.")
            )
        if school_year.starts_on <= source.school_year.starts_on:
            raise InvalidInput({"school_year": [_("Choisissez une année scolaire suivante.")]})
        _refuse_a_second_letter(source.establishment, school_year)
        letter = MissionLetter.objects.create(
            establishment=source.establishment,
            school_year=school_year,
            created_by=user,
            period_kind=PeriodKind.SCHOOL_YEAR,
            period_start=school_year.starts_on,
            period_end=school_year.ends_on,
            means=list(source.means),
            means_other=source.means_other,
            follow_up=source.follow_up,
            qualification=source.qualification,
            dane_training=source.dane_training,
            renewed_from=source,
        )
        copies = {}
        for referent in source.referents.all():
            copies[referent.pk] = LetterReferent.objects.create(
                letter=letter,
                user_id=referent.user_id,
                mode=referent.mode,
                imp_amount=referent.imp_amount,
                decharge_hours=referent.decharge_hours,
                share=referent.share,
                order=referent.order,
            )
        for mission in source.missions.prefetch_related("referents"):
            copy = LetterMission.objects.create(
                letter=letter,
                catalog_item_id=mission.catalog_item_id,
                text=mission.text,
                priority=mission.priority,
                order=mission.order,
            )
            copy.referents.set([copies[r.pk] for r in mission.referents.all()])
        LetterIndicator.objects.bulk_create(
            LetterIndicator(letter=letter, text=i.text, target=i.target, order=i.order)
            for i in source.indicators.all()
        )
        write_version(letter, by=user, working=True)
        record_write(
            letter, actor=actor, told=[], action="create", payload={"renewed_from": source.pk}
        )
    return letter
