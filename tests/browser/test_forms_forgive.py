"""Forms that forgive and pages that say what happened, done as each person does it
(issue 28): contradicting votes confirmed, a period outside the year refused as typed,
the years a new letter may take, a withdrawal that says why, next year's letter offered
from March, and French text marked as such on English pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from playwright.sync_api import expect

from tests.browser.helpers import check, sign_in
from tests.factories import advance, make_letter, make_school
from workflow.models import LetterState, MissionLetter, Opinion

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_votes_that_contradict_the_opinion_are_confirmed_by_the_secretary(browser_page, width):
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    school = make_school(f"Votes{width}")
    letter = make_letter(school)
    advance(letter, school, "board")
    sign_in(page, school.ca_secretary.username, "pw")
    page.goto(f"{page.base_url}/lettres/{letter.pk}/")
    form = page.locator("#action-record_board_opinion")
    form.get_by_text("Défavorable", exact=True).click()
    form.get_by_label("Présents").fill("24")
    form.get_by_label("Pour", exact=True).fill("18")
    form.get_by_label("Contre").fill("3")
    form.get_by_label("Abstentions").fill("2")
    form.get_by_role("button", name="Saisir l'avis du conseil d'administration").click()
    refusal = page.get_by_role("alert").filter(has_text="contredit les votes")
    expect(refusal).to_be_visible()
    expect(refusal).to_be_focused()
    # Back as typed: the opinion and the votes are still there.
    form = page.locator("#action-record_board_opinion")
    expect(form.get_by_label("Défavorable", exact=True)).to_be_checked()
    expect(form.get_by_label("Pour", exact=True)).to_have_value("18")
    expect(form.get_by_label("Présents")).to_have_value("24")
    check(page, f"votes-contradictoires-{width}")
    form.get_by_text("Le conseil a bien rendu cet avis", exact=False).click()
    form.get_by_role("button", name="Saisir l'avis du conseil d'administration").click()
    expect(page.get_by_role("status").filter(has_text="attend les signatures")).to_be_focused()
    opinion = Opinion.objects.get(letter=letter, council="board")
    assert (opinion.opinion, opinion.votes_for) == ("defavorable", 18)


def test_a_period_outside_the_school_year_is_refused_as_typed(browser_page):
    page = browser_page
    school = make_school("Dates")
    letter = make_letter(school)
    sign_in(page, school.principal.username, "pw")
    page.goto(f"{page.base_url}/lettres/{letter.pk}/modifier/")
    start = school.year.starts_on.strftime("%d/%m/%Y")
    expect(page.get_by_text(f"« Année scolaire » : du {start}")).to_be_visible()
    page.get_by_label("Durée de la mission").select_option(label="Dates choisies")
    outside = (school.year.starts_on - dt.timedelta(days=30)).isoformat()
    page.get_by_label("Du", exact=True).fill(outside)
    page.get_by_role("button", name="Enregistrer").first.click()
    expect(page.get_by_text("La période doit tenir dans l'année scolaire").first).to_be_visible()
    expect(page.get_by_label("Du", exact=True)).to_have_value(outside)
    expect(page.get_by_label("Durée de la mission")).to_have_value("dates")
    check(page, "periode-hors-annee")
    letter.refresh_from_db()
    assert letter.period_kind == "school_year"


def test_a_new_letter_offers_the_free_years_next_year_first(browser_page):
    page = browser_page
    school = make_school("Nouvelle")
    make_letter(school, year=school.year)
    sign_in(page, school.principal.username, "pw")
    page.goto(f"{page.base_url}/lettres/nouvelle/")
    years = page.get_by_label("Année scolaire")
    expect(years).to_have_value(str(school.next_year.pk))
    offered = years.locator("option").all_inner_texts()
    assert not any(text.startswith(school.year.code) for text in offered)  # it has its letter
    check(page, "nouvelle-lettre-annees")


def test_a_withdrawn_letter_says_why_and_by_whom(browser_page):
    page = browser_page
    school = make_school("Abandon")
    letter = make_letter(school, imp1="2500.00", hours2="1.50")  # above the envelope
    sign_in(page, school.principal.username, "pw")
    page.goto(f"{page.base_url}/lettres/{letter.pk}/")
    withdraw = page.locator("#action-withdraw")
    withdraw.get_by_label("Motif").fill("Le référent quitte l'établissement.")
    withdraw.get_by_role("button", name="Abandonner la lettre").click()
    # The confirmation box is required: the browser asks for it, nothing is sent.
    confirm = withdraw.get_by_label("Je confirme", exact=False)
    assert confirm.evaluate("box => !box.checkValidity()")
    assert MissionLetter.objects.get(pk=letter.pk).state == LetterState.DRAFT
    withdraw.get_by_text("Je confirme", exact=False).click()
    withdraw.get_by_role("button", name="Abandonner la lettre").click()
    expect(page.get_by_role("status").filter(has_text="La lettre est abandonnée")).to_be_focused()
    reason = page.locator("#motif")
    expect(reason.get_by_text("Le référent quitte l'établissement.")).to_be_visible()
    expect(reason.get_by_text(school.principal.get_full_name())).to_be_visible()
    expect(page.locator(".fr-alert--warning")).to_have_count(0)  # no envelope warning
    check(page, "lettre-abandonnee")


def test_from_march_the_principal_prepares_next_years_letter(browser_page):
    page = browser_page
    school = make_school("Printemps")
    letter = make_letter(school, year=school.year)
    advance(letter, school, "in_force")
    march = dt.datetime.combine(dt.date(school.year.ends_on.year, 3, 2), dt.time(9), tzinfo=dt.UTC)
    with time_machine.travel(march, tick=True):
        sign_in(page, school.principal.username, "pw")
        section = page.get_by_role("heading", name="Préparer la lettre de l'an prochain")
        expect(section).to_be_visible()
        check(page, "a-faire-mars")
        page.get_by_role("button", name=f"Préparer la lettre {school.next_year.code}").click()
        expect(page.get_by_role("status").filter(has_text="Brouillon")).to_be_visible()
    assert MissionLetter.objects.filter(
        establishment=school.establishment, school_year=school.next_year
    ).exists()


def test_english_pages_mark_french_text_and_tables_take_the_keyboard(browser_page):
    page: Any = browser_page
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"{page.base_url}/connexion/")
    for link in page.locator(".fr-skiplinks a").all():  # every skip link has its target
        target = link.get_attribute("href")
        assert page.locator(target).count() == 1, target
    school = make_school("Langue")
    letter = make_letter(school)
    sign_in(page, school.principal.username, "pw")
    page.set_viewport_size({"width": 1280, "height": 900})  # the header's language button
    page.get_by_role("button", name="English").first.click()
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"{page.base_url}/lettres/{letter.pk}/")
    expect(page.get_by_role("heading", name="Content")).to_be_visible()
    mission = page.locator("#contenu-titre ~ ul li span[lang=fr]").first
    expect(mission).to_be_visible()
    referents = page.get_by_role("table", name="Referents")
    assert referents.get_attribute("tabindex") == "0"
    referents.focus()
    expect(referents).to_be_focused()
    check(page, "lettre-anglais-390")


def test_two_people_save_the_same_draft_the_second_is_told(browser_page):
    """The principal and the deputy open the editor of the same draft; the principal
    saves first. The deputy's save is refused with who saved and when, and what he
    typed is still there."""
    page = browser_page
    school = make_school("Deuxpages")
    letter = make_letter(school)
    other_context = page.context.browser.new_context(locale="fr-FR")
    other = other_context.new_page()
    other.base_url = page.base_url
    try:
        sign_in(other, school.deputy.username, "pw")
        other.goto(f"{page.base_url}/lettres/{letter.pk}/modifier/")
        sign_in(page, school.principal.username, "pw")
        page.goto(f"{page.base_url}/lettres/{letter.pk}/modifier/")
        page.get_by_label("Autres moyens", exact=False).fill("Salle B12")
        page.get_by_role("button", name="Enregistrer").first.click()
        expect(page.get_by_role("status").filter(has_text="Lettre enregistrée.")).to_be_visible()
        other.get_by_label("Autres moyens", exact=False).fill("Salle C3")
        other.get_by_role("button", name="Enregistrer").first.click()
        expect(
            other.get_by_text(f"{school.principal.get_full_name()} a enregistré la lettre")
        ).to_be_visible()
        expect(other.get_by_label("Autres moyens", exact=False)).to_have_value("Salle C3")
        check(other, "editeur-enregistrement-concurrent")
    finally:
        other_context.close()
    assert MissionLetter.objects.get(pk=letter.pk).means_other == "Salle B12"
