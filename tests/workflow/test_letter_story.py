"""What each person sees of a letter beside its content (issue 28): the councils'
opinions, the reasons, the report for the principal, the DAN's received reports, and
next year's letter."""

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import (
    advance,
    complete_report,
    fire,
    letter_with_doubts,
    make_letter,
    make_school,
    opinion_payload,
)
from tests.html_forms import form_fields
from workflow.errors import InvalidInput
from workflow.models import LetterState, MissionLetter
from workflow.services.comments import add_comment
from workflow.services.content import update_letter

pytestmark = pytest.mark.django_db


def _page(user, url):
    client = Client()
    client.force_login(user)
    return client, client.get(url).content.decode()


def test_the_principal_sees_the_councils_opinions_before_signing():
    school = make_school("Avis")
    letter = letter_with_doubts(school)
    _client, page = _page(school.principal, f"/lettres/{letter.pk}/")
    opinions = page[
        page.index('id="avis-titre"') : page.index("</section>", page.index("avis-titre"))
    ]
    assert "Réservé" in opinions
    assert "Préciser le rôle au CDI." in opinions
    assert "Défavorable" in opinions
    assert "5 pour, 15 contre, 2 abstentions" in opinions
    assert "22 membres présents" in opinions
    assert "quorum atteint" in opinions
    # Next to « Signer »: the warning, and the alternative offered.
    sign = page[
        page.index('id="action-sign"') : page.index("</form>", page.index('id="action-sign"'))
    ]
    assert "Avant de signer : un conseil a émis des réserves" in sign
    assert "Rouvrir la concertation" in sign
    assert 'id="action-reopen_concertation"' in page


def test_a_reason_is_shown_where_the_person_acts_and_in_the_history():
    school = make_school("Motif")
    letter = make_letter(school)
    fire(letter, "open_concertation", school.principal)
    fire(letter, "return_to_draft", school.principal, reason="Ajouter la mission ENT.")
    _client, page = _page(school.principal, f"/lettres/{letter.pk}/")
    assert 'id="motif"' in page
    assert "« Ajouter la mission ENT. »" in page
    history = page[page.index('id="historique-titre"') :]
    assert ">Motif<" in history
    assert "Ajouter la mission ENT." in history


def test_a_withdrawn_letter_says_why_and_by_whom_without_envelope_warnings():
    school = make_school("Retrait")
    letter = make_letter(school, imp1="2500.00", hours2="1.50")  # above the envelope
    _client, page = _page(school.principal, f"/lettres/{letter.pk}/")
    assert "enveloppe" in page.lower()
    fire(letter, "withdraw", school.principal, reason="Le référent quitte l'établissement.")
    _client, page = _page(school.principal, f"/lettres/{letter.pk}/")
    reason = page[page.index('id="motif"') :]
    assert "Le référent quitte l&#x27;établissement." in reason
    assert school.principal.get_full_name() in reason
    assert "fr-alert--warning" not in page


def test_the_principal_reads_the_report_and_returns_it_from_its_page():
    school = make_school("CR")
    letter = make_letter(school)
    advance(letter, school, "report_due")
    complete_report(letter, school.referent1)
    fire(letter, "submit_report", school.referent1)
    client, page = _page(school.principal, f"/lettres/{letter.pk}/compte-rendu/")
    assert "disabled" not in page  # read as text, not greyed fields
    assert "Atteint" in page
    assert 'id="action-acknowledge_report"' in page
    assert 'id="action-return_report"' in page
    answer = client.post(
        f"/lettres/{letter.pk}/actions/return_report/",
        {**dict(form_fields(page, "action-return_report")), "reason": "Chiffrer le PIX."},
    )
    assert answer["Location"] == f"/lettres/{letter.pk}/compte-rendu/"
    letter.refresh_from_db()
    assert letter.state == LetterState.REPORT_DUE
    _client, page = _page(school.referent1, f"/lettres/{letter.pk}/compte-rendu/")
    assert page.index("Chiffrer le PIX.") < page.index('id="compte-rendu"')  # above the form


def test_the_dan_finds_the_reports_sent_to_her_in_her_to_do():
    school = make_school("DAN")
    letter = make_letter(school)
    advance(letter, school, "report_due")
    complete_report(letter, school.referent1)
    _client, page = _page(school.dan, "/")
    assert "Comptes rendus reçus" not in page
    fire(letter, "submit_report", school.referent1)
    _client, page = _page(school.dan, "/")
    assert "Comptes rendus reçus" in page
    assert f"/lettres/{letter.pk}/compte-rendu/" in page


def test_a_refused_opinion_comes_back_as_typed():
    school = make_school("Typed")
    letter = make_letter(school)
    advance(letter, school, "board")
    client, page = _page(school.ca_secretary, f"/lettres/{letter.pk}/")
    # Too few present for the quorum: refused, and the form comes back as typed.
    form: dict[str, Any] = {
        **dict(form_fields(page, "action-record_board_opinion")),
        "opinion": "reserve",
        "remarks": "À revoir",
        "members_present": "3",
        "votes_for": "1",
        "votes_against": "1",
        "abstentions": "1",
        "not_voting": "0",
    }
    client.post(f"/lettres/{letter.pk}/actions/record_board_opinion/", form)
    page = client.get(f"/lettres/{letter.pk}/").content.decode()
    assert "quorum" in page
    assert 'value="reserve" required checked' in page
    assert 'name="members_present" value="3"' in page
    assert ">À revoir</textarea>" in page
    # Once: a second visit shows a fresh form.
    page = client.get(f"/lettres/{letter.pk}/").content.decode()
    assert 'name="members_present" value=""' in page


def test_a_new_letter_offers_the_free_years_the_next_one_first():
    school = make_school("Ans")
    client, page = _page(school.principal, "/lettres/nouvelle/")
    assert f'value="{school.next_year.pk}" selected' in page
    MissionLetter.objects.create(
        establishment=school.establishment,
        school_year=school.next_year,
        created_by=school.principal,
    )
    page = client.get("/lettres/nouvelle/").content.decode()
    assert f'value="{school.next_year.pk}"' not in page


def test_a_letter_in_force_is_renewed_in_one_click_and_over_the_api():
    school = make_school("Renew")
    letter = make_letter(school, year=school.year)
    advance(letter, school, "in_force")
    client, page = _page(school.principal, f"/lettres/{letter.pk}/")
    assert f"Renouveler pour {school.next_year.code}" in page
    answer = client.post(f"/lettres/{letter.pk}/reconduire/")
    draft = MissionLetter.objects.get(
        establishment=school.establishment, school_year=school.next_year
    )
    assert answer["Location"] == f"/lettres/{draft.pk}/"
    assert draft.state == LetterState.DRAFT
    assert draft.renewed_from_id == letter.pk
    # Over the API: the year has its letter now (409), an unknown year is 400.
    api = APIClient()
    api.force_authenticate(school.principal)
    url = f"/api/v1/letters/{letter.pk}/renew/"
    taken = api.post(url, {"school_year": school.next_year.code}, format="json")
    assert taken.status_code == 409
    assert taken.json()["code"] == "letter_exists"
    assert api.post(url, {"school_year": "1999-2000"}, format="json").status_code == 400
    fire(draft, "withdraw", school.principal, reason="Refaite par l'API.")
    made = api.post(url, {"school_year": school.next_year.code}, format="json")
    assert made.status_code == 201
    assert made.json()["state"] == "draft"
    assert made.json()["school_year"] == school.next_year.code


def test_from_march_the_principal_is_offered_next_years_letter():
    school = make_school("Mars")
    letter = make_letter(school, year=school.year)
    advance(letter, school, "in_force")
    march = dt.datetime.combine(dt.date(school.year.ends_on.year, 3, 2), dt.time(9), tzinfo=dt.UTC)
    with time_machine.travel(march, tick=False):
        _client, page = _page(school.principal, "/")
    assert "Préparer la lettre de l'an prochain" in page
    assert f"/lettres/{letter.pk}/reconduire/" in page
    with time_machine.travel(march - dt.timedelta(days=40), tick=False):
        _client, page = _page(school.principal, "/")
    assert "Préparer la lettre de l'an prochain" not in page


def test_an_edit_refused_names_the_person_not_their_account():
    school = make_school("Nom")
    letter = make_letter(school)
    account = school.cp_secretary.username
    mission = {"text": "Animer le club", "priority": "principal", "referents": [account]}
    with pytest.raises(InvalidInput) as refused:
        update_letter(letter_id=letter.pk, user=school.principal, changes={"missions": [mission]})
    (message,) = refused.value.errors["missions[0].referents"]
    assert account not in message
    assert f"« {school.cp_secretary.get_full_name()} » n'est pas référent" in message


def test_votes_that_contradict_the_opinion_are_confirmed_or_refused():
    school = make_school("Contre")
    letter = make_letter(school)
    advance(letter, school, "board")
    contradicting = opinion_payload(
        school.ca_meeting, "defavorable", votes_for=18, votes_against=3, abstentions=2
    )
    with pytest.raises(InvalidInput) as refused:
        fire(letter, "record_board_opinion", school.ca_secretary, **contradicting)
    (reason,) = refused.value.errors["votes_confirmed"]
    assert "une majorité de voix pour (18 pour, 3 contre)" in reason
    letter.refresh_from_db()
    assert letter.state == LetterState.BOARD
    fire(letter, "record_board_opinion", school.ca_secretary, **contradicting, votes_confirmed=True)
    letter.refresh_from_db()
    assert letter.state == LetterState.SIGNATURE


def test_the_conseil_pedagogique_may_record_its_votes_or_not():
    school = make_school("CPvotes")
    letter = make_letter(school)
    advance(letter, school, "pedagogical_council")
    _client, page = _page(school.cp_secretary, f"/lettres/{letter.pk}/")
    form = page[page.index('id="action-record_pedagogical_opinion"') :]
    assert "facultatifs pour le conseil pédagogique" in form
    assert 'name="votes_for" value="" >' in form  # not required
    fire(
        letter,
        "record_pedagogical_opinion",
        school.cp_secretary,
        **opinion_payload(school.cp_meeting, "favorable", votes_for=12, votes_against=1),
    )
    letter.refresh_from_db()
    assert letter.opinions.get().votes_for == 12


def test_the_deputy_reads_that_he_signs_by_delegation_before_signing():
    school = make_school("Adjoint")
    letter = make_letter(school)
    advance(letter, school, "signature")
    client, page = _page(school.deputy, f"/lettres/{letter.pk}/")
    sign = page[page.index('id="action-sign"') :]
    quality = "Pour le chef d&#x27;établissement et par délégation, l&#x27;adjoint"
    assert f"Vous signez en qualité de : « {quality} »." in sign
    client.post(f"/lettres/{letter.pk}/actions/sign/", dict(form_fields(page, "action-sign")))
    page = client.get(f"/lettres/{letter.pk}/").content.decode()
    signatures = page[page.index('id="signatures-titre"') :]
    assert school.deputy.get_full_name() in signatures
    assert quality in signatures


def test_the_editor_shows_the_school_years_dates_and_ignores_stale_ones():
    school = make_school("Periode")
    letter = make_letter(school)
    client, page = _page(school.principal, f"/lettres/{letter.pk}/modifier/")
    start = school.year.starts_on.strftime("%d/%m/%Y")
    assert f"« Année scolaire » : du {start}" in page.replace("&#x27;", "'").replace("&quot;", '"')
    form: dict[str, Any] = {
        **dict(form_fields(page, "editeur")),
        "period_kind": "school_year",
        "period_start": "2000-01-01",
    }
    client.post(f"/lettres/{letter.pk}/modifier/", form)
    letter.refresh_from_db()
    assert letter.period_start == school.year.starts_on


def test_the_principal_finds_open_change_requests_in_her_to_do():
    school = make_school("Demande")
    letter = make_letter(school)
    fire(letter, "open_concertation", school.principal)
    _client, page = _page(school.principal, "/")
    assert "Demandes de modification à traiter" not in page
    add_comment(
        letter_id=letter.pk,
        user=school.referent1,
        body="Retirer la mission ENT ?",
        is_change_request=True,
    )
    _client, page = _page(school.principal, "/")
    assert "Demandes de modification à traiter" in page
    assert "1 demande ouverte" in page
    _client, page = _page(school.referent1, "/")
    assert "Demandes de modification à traiter" not in page
