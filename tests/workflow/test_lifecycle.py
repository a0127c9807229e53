"""A full lifecycle from draft to closed with two référents, including a reopened
concertation after an unfavourable opinion of the CA (DESIGN §4)."""

import pytest
from django.core.management import call_command

from tests.factories import letter_content, make_school, opinion_payload, shown
from workflow.audit.chain import verify_chains
from workflow.audit.snapshot import content_sha256
from workflow.errors import ConditionsUnmet
from workflow.lifecycle.engine import fire_transition
from workflow.models import (
    AuditEvent,
    LetterState,
    Opinion,
    OutboxItem,
    Signature,
    SignatureQuality,
)
from workflow.services.content import update_letter
from workflow.services.letters import create_letter
from workflow.services.report import save_report

pytestmark = pytest.mark.django_db


def _fire(letter, name, user, **payload):
    return fire_transition(letter_id=letter.pk, name=name, user=user, payload=payload)


def test_draft_to_closed_with_two_referents_and_a_reopen():
    school = make_school("Carnot")
    principal, deputy = school.principal, school.deputy
    r1, r2 = school.referent1, school.referent2

    letter = create_letter(
        user=principal, establishment=school.establishment, school_year=school.year
    )
    assert letter.state == LetterState.DRAFT
    with pytest.raises(ConditionsUnmet) as excinfo:
        _fire(letter, "open_concertation", principal)
    assert {u.code for u in excinfo.value.unmet} == {"no_referent", "no_mission"}

    update_letter(letter_id=letter.pk, user=principal, changes=letter_content(school))
    letter = _fire(letter, "open_concertation", principal)
    assert (letter.state, letter.version) == ("concertation", 1)

    _fire(letter, "agree", r1, **shown(letter))
    with pytest.raises(ConditionsUnmet) as excinfo:
        _fire(letter, "submit_to_pedagogical_council", principal)
    assert excinfo.value.unmet[0].code == "agreement_missing"
    assert "Karim Benali" in excinfo.value.unmet[0].message

    # A change of content raises the version: referent1 must agree again.
    letter = update_letter(
        letter_id=letter.pk,
        user=principal,
        changes={"qualification": "PIX niveau 5"},
        base_version=1,
    )
    assert letter.version == 2
    _fire(letter, "agree", r1, **shown(letter))
    _fire(letter, "agree", r2, **shown(letter))
    letter = _fire(letter, "submit_to_pedagogical_council", principal, meeting=school.cp_meeting.pk)
    assert letter.state == "pedagogical_council"

    letter = _fire(
        letter,
        "record_pedagogical_opinion",
        school.cp_secretary,
        **opinion_payload(school.cp_meeting, remarks="RAS"),
    )
    assert letter.state == "board"
    letter = _fire(
        letter,
        "record_board_opinion",
        school.ca_secretary,
        **opinion_payload(
            school.ca_meeting,
            "defavorable",
            votes_for=5,
            votes_against=15,
            abstentions=3,
            members_present=23,
        ),
    )
    assert letter.state == "signature"

    # The unfavourable CA opinion: the principal reopens the concertation.
    letter = _fire(letter, "reopen_concertation", principal, reason="Avis défavorable du CA")
    assert (letter.state, letter.version) == ("concertation", 3)
    update_letter(
        letter_id=letter.pk, user=principal, changes=letter_content(school, imp1="937.50")
    )
    letter.refresh_from_db()
    assert letter.version == 4
    for referent in (r1, r2):
        _fire(letter, "agree", referent, **shown(letter))
    _fire(letter, "submit_to_pedagogical_council", principal)
    _fire(letter, "record_pedagogical_opinion", principal, **opinion_payload(school.cp_meeting))
    letter = _fire(
        letter, "record_board_opinion", school.ca_secretary, **opinion_payload(school.ca_meeting)
    )
    assert letter.state == "signature"
    assert Opinion.objects.filter(letter=letter).count() == 4  # the earlier ones stay

    # Signatures: the deputy signs by delegation, then each referent; the last one
    # brings the letter into force.
    signed = shown(letter)
    _fire(letter, "sign", deputy, **signed)
    _fire(letter, "sign", r1, **signed)
    letter.refresh_from_db()
    assert letter.state == "signature"
    letter = _fire(letter, "sign", r2, **signed)
    assert letter.state == "in_force"
    qualities = dict(
        Signature.objects.filter(letter=letter).values_list("signer__username", "quality")
    )
    assert qualities[deputy.username] == SignatureQuality.DEPUTY_BY_DELEGATION
    assert qualities[r1.username] == SignatureQuality.REFERENT
    assert content_sha256(letter) == signed["snapshot_sha256"]

    # Year-end report, pre-filled from the letter; returned once, then acknowledged.
    letter = _fire(letter, "open_report", principal, reason="Mutation de la référente")
    report = letter.report
    assert report.outcomes.count() == 3
    assert report.results.count() == 2
    with pytest.raises(ConditionsUnmet):
        _fire(letter, "submit_report", r1)
    save_report(
        letter_id=letter.pk,
        user=r1,
        data={
            "difficulties": "Réseau instable",
            "outcomes": [
                {"mission": o.mission_id, "status": "done"} for o in report.outcomes.all()
            ],
            "results": [
                {"indicator": r.indicator_id, "result": "Atteint"} for r in report.results.all()
            ],
        },
    )
    _fire(letter, "submit_report", r2)
    _fire(letter, "return_report", principal, reason="Précisez les difficultés")
    _fire(letter, "submit_report", r1)
    letter = _fire(letter, "acknowledge_report", principal)
    assert letter.state == "closed"

    events = list(AuditEvent.objects.filter(letter=letter).order_by("sequence"))
    actions = [e.action for e in events]
    # Draft edits are not history; edits during concertation are (they raise the version).
    assert actions[:4] == ["create", "open_concertation", "agree", "edit"]
    assert actions.count("edit") == 2
    assert actions.count("sign") == 3
    assert events[-1].to_state == "closed"
    assert verify_chains() == []
    call_command("verify_audit")
    # Each step asked for its archive; the submitted report told the DAN.
    assert OutboxItem.objects.filter(kind="archive").count() == len(events)
    assert OutboxItem.objects.filter(topic="report_submitted", recipient=school.dan).exists()
