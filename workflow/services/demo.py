"""Demo letters (DESIGN §9): a few letters in different states, each made through the
real services so that its history, signatures and outbox are genuine.

Letters and meetings are made once: when the demo schools already have them, nothing
is added, so ``load_demo`` stays idempotent.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from governance.demo import DemoGovernance
from governance.models import CatalogItem, Council, CouncilKind, Establishment, Meeting
from governance.services import schedule_meeting
from workflow.audit.versions import current_version
from workflow.lifecycle.engine import fire_transition
from workflow.models import MissionLetter
from workflow.services.content import update_letter
from workflow.services.letters import create_letter, renew_letter


def _meetings(establishment: Establishment, ca_members: int) -> dict[str, Meeting]:
    """Each council: one meeting a week ago (its opinions are in the demo) and two to come."""
    councils = {
        CouncilKind.PEDAGOGICAL: Council.objects.get_or_create(
            establishment=establishment,
            kind=CouncilKind.PEDAGOGICAL,
            defaults={"members_in_office": 14},
        )[0],
        CouncilKind.BOARD: Council.objects.get_or_create(
            establishment=establishment,
            kind=CouncilKind.BOARD,
            defaults={"members_in_office": ca_members},
        )[0],
    }
    found: dict[str, Meeting] = {}
    at_six = timezone.localtime().replace(hour=18, minute=0, second=0, microsecond=0)
    for kind, council in councils.items():
        if not council.meetings.exists():
            for days in (-7, 14, 56):
                schedule_meeting(
                    council,
                    by=None,
                    starts_at=at_six + dt.timedelta(days=days),
                    location="Salle du conseil",
                )
        found[f"{kind}_past"] = council.meetings.filter(starts_at__lt=timezone.now()).latest(
            "starts_at"
        )
        found[f"{kind}_next"] = council.meetings.filter(starts_at__gte=timezone.now()).earliest(
            "starts_at"
        )
    return found


def _item(code: str) -> int:
    return CatalogItem.objects.get(code=code).pk


def _shown(letter: MissionLetter) -> dict[str, str]:
    """What a référent or a signer is shown of the letter as it stands: its version's
    hash, which ``agree`` and ``sign`` carry."""
    letter.refresh_from_db()
    return {"snapshot_sha256": current_version(letter).content_sha256}


def load(gov: DemoGovernance) -> None:
    u = gov.users
    carnot_meetings = _meetings(gov.carnot, ca_members=30)
    college_meetings = _meetings(gov.college, ca_members=24)
    if MissionLetter.objects.filter(establishment__in=[gov.carnot, gov.college]).exists():
        return

    # Lycée Carnot, this year: in force, with its whole history.
    letter = create_letter(
        user=u["principal"], establishment=gov.carnot, school_year=gov.current_year
    )
    update_letter(
        letter_id=letter.pk,
        user=u["principal"],
        changes={
            "referents": [
                {
                    "user": "referent1",
                    "mode": "imp",
                    "imp_amount": "1250.00",
                    "share": "Accompagnement pédagogique et PIX",
                },
                {
                    "user": "referent2",
                    "mode": "decharge",
                    "decharge_hours": "1.00",
                    "share": "ENT, site web et lien avec la Région",
                },
            ],
            "missions": [
                {
                    "catalog_item": _item("accompagner-equipe-impulser-pratiques"),
                    "priority": "principal",
                    "referents": ["referent1"],
                },
                {
                    "catalog_item": _item("administration-pix-import-siecle"),
                    "priority": "principal",
                    "referents": ["referent1"],
                },
                {
                    "catalog_item": _item("administration-ent-administrer-interface"),
                    "priority": "principal",
                    "referents": ["referent2"],
                },
                {
                    "text": "Coordonner le prêt des tablettes du CDI",
                    "priority": "secondary",
                    "referents": ["referent2"],
                },
            ],
            "indicators": [
                {"text": "Sessions de prise en main proposées aux équipes", "target": "6 par an"},
                {"text": "Élèves de terminale certifiés PIX", "target": "90 %"},
            ],
            "means": ["office", "phone"],
            "follow_up": "annual_review",
            "qualification": "Formation DANE niveau 2 ; certification PIX",
            "dane_training": "Parcours référents numériques de la DANE (3 ans)",
        },
    )
    fire_transition(letter_id=letter.pk, name="open_concertation", user=u["principal"])
    for name in ("referent1", "referent2"):
        fire_transition(letter_id=letter.pk, name="agree", user=u[name], payload=_shown(letter))
    fire_transition(
        letter_id=letter.pk,
        name="submit_to_pedagogical_council",
        user=u["principal"],
        payload={"meeting": carnot_meetings["pedagogical_past"].pk},
    )
    fire_transition(
        letter_id=letter.pk,
        name="record_pedagogical_opinion",
        user=u["secretaire-cp"],
        payload={"meeting": carnot_meetings["pedagogical_past"].pk, "opinion": "favorable"},
    )
    fire_transition(
        letter_id=letter.pk,
        name="record_board_opinion",
        user=u["secretaire-ca"],
        payload={
            "meeting": carnot_meetings["board_past"].pk,
            "opinion": "favorable",
            "votes_for": 21,
            "votes_against": 0,
            "abstentions": 2,
            "not_voting": 1,
            "members_present": 24,
        },
    )
    for name in ("principal", "referent1", "referent2"):
        fire_transition(letter_id=letter.pk, name="sign", user=u[name], payload=_shown(letter))

    # Lycée Carnot, next year: the same letter renewed, in concertation.
    renewal = renew_letter(letter_id=letter.pk, user=u["principal"], school_year=gov.next_year)
    fire_transition(letter_id=renewal.pk, name="open_concertation", user=u["principal"])
    fire_transition(
        letter_id=renewal.pk, name="agree", user=u["referent1"], payload=_shown(renewal)
    )

    # Collège Gustave-Eiffel, this year: waiting for the conseil pédagogique.
    college = create_letter(
        user=u["principal2"], establishment=gov.college, school_year=gov.current_year
    )
    update_letter(
        letter_id=college.pk,
        user=u["principal2"],
        changes={
            "referents": [{"user": "referent3", "mode": "imp", "imp_amount": "1250.00"}],
            "missions": [
                {
                    "catalog_item": _item("accompagner-equipe-impulser-pratiques"),
                    "priority": "principal",
                    "referents": ["referent3"],
                },
                {
                    "catalog_item": _item("webmestre-site-web-droits-publication"),
                    "priority": "secondary",
                    "referents": ["referent3"],
                },
            ],
            "indicators": [{"text": "Classes utilisant l'ENT chaque semaine", "target": "80 %"}],
            "means": ["equipment"],
            "follow_up": "request_log",
        },
    )
    fire_transition(letter_id=college.pk, name="open_concertation", user=u["principal2"])
    fire_transition(
        letter_id=college.pk, name="agree", user=u["referent3"], payload=_shown(college)
    )
    fire_transition(
        letter_id=college.pk,
        name="submit_to_pedagogical_council",
        user=u["principal2"],
        # On the agenda of the meeting held a week ago, whose opinion is still to record.
        payload={"meeting": college_meetings["pedagogical_past"].pk},
    )

    # Collège Gustave-Eiffel, next year: a draft begun by the principal.
    create_letter(user=u["principal2"], establishment=gov.college, school_year=gov.next_year)
