"""The error pages in a real browser, as a signed-in person meets them (a stale link, a
page that is not theirs), at desktop and phone widths, checked with axe-core; and a
refused opinion's message, which names the letter and the field in French."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import check, sign_in
from tests.factories import advance, make_letter, make_school
from workflow.web import letters as letter_pages

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_a_missing_page_and_a_refused_one_lead_back(browser_page, width):
    page = browser_page
    school = make_school("Egare")
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, school.referent1.username, "pw")
    letters = f"{page.base_url}/lettres/"

    # A stale link, followed from the list: the 404 page, and back to the list.
    page.goto(f"{page.base_url}/lettres/999999/", referer=letters)
    expect(page.get_by_role("heading", level=1, name="Page introuvable")).to_be_visible()
    expect(page.get_by_text("Erreur 404")).to_be_visible()
    expect(page.get_by_role("link", name="Page d'accueil")).to_be_visible()
    check(page, f"erreur-404-{width}")
    page.get_by_role("link", name="Retour à la page précédente").click()
    page.wait_for_url(letters)

    # A page that is the principal's: the 403 page says why, and leads back home.
    page.goto(f"{page.base_url}/lettres/nouvelle/", referer=letters)
    expect(page.get_by_role("heading", level=1, name="Accès refusé")).to_be_visible()
    expect(page.get_by_text("Seul le chef d'établissement (ou son adjoint) rédige")).to_be_visible()
    expect(page.get_by_role("link", name="Retour à la page précédente")).to_be_visible()
    check(page, f"erreur-403-{width}")
    page.get_by_role("link", name="Page d'accueil").click()
    page.wait_for_url(f"{page.base_url}/")
    expect(page.get_by_role("heading", level=1, name="Bonjour, Sophie Durand")).to_be_visible()


def test_a_refused_opinion_names_the_letter_and_the_field_in_french(browser_page):
    page = browser_page
    school = make_school("Avis")
    first = advance(make_letter(school), school, "pedagogical_council")
    second = advance(make_letter(school, year=school.next_year), school, "pedagogical_council")
    sign_in(page, school.cp_secretary.username, "pw")
    page.get_by_role("link", name="Séances des conseils").click()
    page.get_by_role("link", name="Saisir les avis").click()
    page.locator(f"label[for='opinion-{first.pk}-favorable']").click()
    page.locator(f"label[for='opinion-{second.pk}-reserve']").click()  # and no remarks
    page.get_by_role("button", name="Enregistrer les avis").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Aucun avis n'a été enregistré")
    expect(alert).to_contain_text(
        "Lycée Avis — 2027-2028 (Observations) : Un avis réservé s'accompagne de ses observations."
    )
    expect(alert).not_to_contain_text("remarks")
    expect(alert).not_to_contain_text("letter")
    check(page, "avis-refuse-libelles")


def test_a_failing_page_shows_the_500_page(browser_page, monkeypatch):
    page = browser_page
    school = make_school("Panne")
    sign_in(page, school.principal.username, "pw")

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(letter_pages, "to_do", broken)
    page.goto(f"{page.base_url}/")
    expect(page.get_by_role("heading", level=1, name="Erreur inattendue")).to_be_visible()
    expect(page.get_by_text("boom")).to_have_count(0)
    check(page, "erreur-500")
    monkeypatch.undo()
    page.get_by_role("link", name="Page d'accueil").click()
    expect(page.get_by_role("heading", level=1, name="Bonjour, Claire Martin")).to_be_visible()
