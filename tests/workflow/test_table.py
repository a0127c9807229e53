"""The lifecycle's table (``workflow.lifecycle.table``): each transition defined once,
and read as such by the pages, the API, À faire and the reminders."""

import re
from pathlib import Path

import pytest
from django.test import Client

from tests.factories import make_letter, make_school
from tests.html_forms import form_fields
from workflow.lifecycle.engine import available_transitions, fire_transition
from workflow.lifecycle.spec import Form, Presentation
from workflow.lifecycle.table import TRANSITIONS, version_sharing_actions
from workflow.models import LetterState, MissionLetter

ROOT = Path(__file__).resolve().parents[2]


def test_each_transition_reads_its_states_from_the_models_decorator():
    field = MissionLetter._meta.get_field("state")
    decorated = {t.name for t in field.get_all_transitions(MissionLetter)}
    assert decorated == set(TRANSITIONS)
    assert TRANSITIONS["withdraw"].sources == {
        LetterState.DRAFT,
        LetterState.CONCERTATION,
        LetterState.PEDAGOGICAL_COUNCIL,
        LetterState.BOARD,
        LetterState.SIGNATURE,
    }
    assert TRANSITIONS["sign"].target == LetterState.SIGNATURE  # or in force, on firing
    assert TRANSITIONS["reopen_concertation"].target == LetterState.CONCERTATION
    assert version_sharing_actions() == ["open_concertation", "reopen_concertation", "edit"]


def test_what_a_page_offers_comes_from_the_table():
    going_back = {"return_to_draft", "reopen_concertation", "return_report", "open_report"}
    for name, spec in TRANSITIONS.items():
        assert spec.to_do == (spec.presentation == Presentation.PRIMARY), name
        assert spec.needs_reason == (spec.form == Form.REASON), name
        if name in going_back:
            assert spec.presentation == Presentation.SECONDARY, name
    assert TRANSITIONS["withdraw"].presentation == Presentation.DESTRUCTIVE
    assert {name for name, spec in TRANSITIONS.items() if spec.council} == {
        "submit_to_pedagogical_council",
        "record_pedagogical_opinion",
        "record_board_opinion",
    }


def test_no_page_api_or_reminder_names_a_transition():
    """Pages, API, À faire and reminders read the table: none of their modules or
    templates spells a transition's name (the scheduler's open_report aside, which
    fires it by name as any caller of the engine does)."""
    names = "|".join(sorted(TRANSITIONS, key=len, reverse=True))
    pattern = re.compile(rf"""["'](?:{names})["']""")
    readers = [
        *sorted((ROOT / "workflow/web").glob("*.py")),
        *sorted((ROOT / "workflow/api").glob("*.py")),
        ROOT / "workflow/lifecycle/todo.py",
        ROOT / "workflow/lifecycle/engine.py",
        *sorted((ROOT / "templates/workflow").glob("*.html")),
    ]
    found = {str(path.relative_to(ROOT)): pattern.findall(path.read_text()) for path in readers}
    assert {path: hits for path, hits in found.items() if hits} == {}
    reminders = (ROOT / "notifications/services.py").read_text()
    assert set(pattern.findall(reminders)) == {'"open_report"'}


@pytest.mark.django_db
def test_a_done_action_is_no_longer_offered_nor_to_do():
    school = make_school("Tbl")
    letter = make_letter(school)
    fire_transition(letter_id=letter.pk, name="open_concertation", user=school.principal)
    letter.refresh_from_db()
    (agree,) = available_transitions(letter, school.referent1)
    assert agree.to_do
    assert not agree.done
    client = Client()
    client.force_login(school.referent1)
    page = client.get(f"/lettres/{letter.pk}/").content.decode()
    client.post(f"/lettres/{letter.pk}/actions/agree/", dict(form_fields(page, "action-agree")))
    letter.refresh_from_db()
    (agree,) = available_transitions(letter, school.referent1)
    assert agree.done
    assert not agree.to_do
    page = client.get(f"/lettres/{letter.pk}/").content.decode()
    assert 'id="action-agree"' not in page
    assert "Accord" in page  # the référents' table says it is given


@pytest.mark.django_db
def test_withdrawal_from_the_page_asks_for_confirmation(client):
    school = make_school("Conf")
    letter = make_letter(school)
    client.force_login(school.principal)
    page = client.get(f"/lettres/{letter.pk}/").content.decode()
    assert 'name="confirm"' in page
    assert "ne pourra pas être annulé" in page
    # The expected step comes first, the destructive one last.
    assert page.index('id="action-open_concertation"') < page.index('id="action-withdraw"')
    url = f"/lettres/{letter.pk}/actions/withdraw/"
    answer = client.post(url, {"reason": "Projet abandonné"}, follow=True)
    assert "Cochez la case de confirmation" in answer.content.decode()
    letter.refresh_from_db()
    assert letter.state == LetterState.DRAFT
    client.post(url, {"reason": "Projet abandonné", "confirm": "on"})
    letter.refresh_from_db()
    assert letter.state == LetterState.WITHDRAWN
