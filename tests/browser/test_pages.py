"""The pages in a real browser, as the demo people would use them: sign in, see what
waits for you, discuss, agree, send the letter to the conseil pédagogique. Every page
visited is checked with axe-core (no serious or critical violation) and photographed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.helpers import check, sign_in, sign_out, tab_to
from workflow.models import LetterReferent, LetterState, MissionLetter

pytestmark = pytest.mark.django_db(transaction=True)


def test_discuss_agree_and_send_a_letter_to_the_council(browser_page):
    page = browser_page
    call_command("load_demo")
    renewal = MissionLetter.objects.get(state=LetterState.CONCERTATION)
    letter_url = f"{page.base_url}/lettres/{renewal.pk}/"

    page.goto(f"{page.base_url}/connexion/")
    check(page, "01-connexion")
    sign_in(page, "principal")
    expect(page.get_by_role("heading", name="Bonjour, Claire Martin")).to_be_visible()
    check(page, "02-a-faire-principal")
    page.get_by_role("link", name="Lettres de mission").first.click()
    check(page, "03-liste")

    page.goto(letter_url)
    expect(page.get_by_text("Concertation avec le(s) référent(s)").first).to_be_visible()
    submit = page.get_by_role("button", name="Soumettre au conseil pédagogique")
    assert submit.is_disabled()  # referent2 has not agreed yet: the reason is shown
    expect(page.get_by_text("Accord attendu sur la version 1 de : Karim Benali")).to_be_visible()
    page.get_by_label("Votre message").fill("Pouvez-vous relire la mission PIX ?")
    page.get_by_role("button", name="Publier").click()
    expect(page.get_by_text("Pouvez-vous relire la mission PIX ?")).to_be_visible()
    check(page, "04-lettre-principal")
    sign_out(page)

    sign_in(page, "referent2")
    waiting = page.locator("table tr", has_text="Donner mon accord")
    assert waiting.count() == 1  # the à-faire list shows what waits for referent2
    waiting.get_by_role("link").click()
    page.wait_for_url(letter_url)
    page.get_by_role("button", name="Donner mon accord").click()
    expect(page.get_by_text("Accord enregistré sur la version")).to_be_visible()
    check(page, "05-lettre-referent2")
    assert LetterReferent.objects.get(letter=renewal, user__username="referent2").agreed_version
    sign_out(page)

    sign_in(page, "principal")
    page.goto(letter_url)
    page.get_by_role("button", name="Soumettre au conseil pédagogique").click()
    expect(page.get_by_role("status").filter(has_text="conseil pédagogique")).to_be_visible()
    renewal.refresh_from_db()
    assert renewal.state == LetterState.PEDAGOGICAL_COUNCIL
    expect(page.get_by_text("Avis du conseil pédagogique").first).to_be_visible()
    check(page, "06-lettre-soumise")

    page.get_by_role("link", name="Séances des conseils").click()
    expect(page.get_by_role("heading", name="Séances des conseils")).to_be_visible()
    check(page, "07-seances")
    page.get_by_role("link", name="Accessibilité : non conforme").click()
    expect(page.get_by_text("non conforme").first).to_be_visible()
    check(page, "08-accessibilite")
    sign_out(page)

    sign_in(page, "dan")
    page.get_by_role("link", name="Tableau de bord", exact=True).click()
    expect(page.get_by_role("heading", name="Établissements", exact=True)).to_be_visible()
    table = page.get_by_role("table", name="Établissements de l'académie")
    expect(table.get_by_role("rowheader", name="Lycée Carnot")).to_be_visible()
    check(page, "09-tableau-de-bord")


def _button_named(name: str) -> Callable[[dict[str, Any]], bool]:
    """The language buttons read « Changer de langue : English » to a screen reader."""
    return lambda f: f["tag"] == "button" and f["text"].split()[-1:] == [name]


def test_the_language_selector_with_the_keyboard_alone(browser_page):
    page = browser_page
    call_command("load_demo")
    sign_in(page, "principal")
    assert page.locator("html").get_attribute("lang") == "fr"

    tab_to(page, _button_named("English"))
    with page.expect_navigation(url=f"{page.base_url}/"):  # set_language, back to this page
        page.keyboard.press("Enter")
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.get_by_role("heading", name="Hello, Claire Martin")).to_be_visible()
    expect(page.get_by_role("heading", name="To do")).to_be_visible()
    check(page, "10-to-do-english")
    menu = page.get_by_role("navigation", name="Main menu")
    menu.get_by_role("link", name="Mission letters").click()
    page.wait_for_url(f"{page.base_url}/lettres/")
    expect(page.get_by_role("heading", name="Mission letters")).to_be_visible()
    check(page, "11-letters-english")

    # The choice stays from page to page, and the way back is the same.
    tab_to(page, _button_named("Français"))
    with page.expect_navigation(url=f"{page.base_url}/lettres/"):
        page.keyboard.press("Space")
    assert page.locator("html").get_attribute("lang") == "fr"
    expect(page.get_by_role("heading", name="Lettres de mission")).to_be_visible()


def test_on_a_phone_the_header_folds_into_the_menu_dialog(browser_page):
    """WCAG 1.4.10 (reflow): at 375 px the DSFR hides the header's tools; the « Menu »
    button opens them, with the navigation, and signing out still works."""
    page = browser_page
    call_command("load_demo")
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, "principal")
    assert not page.get_by_role("button", name="Se déconnecter").first.is_visible()
    page.get_by_role("button", name="Menu").click()
    dialog = page.locator("#modal-menu")
    dialog.get_by_role("link", name="Séances des conseils").wait_for()
    expect(dialog.get_by_role("button", name="English")).to_be_visible()
    check(page, "12-menu-telephone")
    dialog.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/connexion/")


@pytest.mark.parametrize("width", [1280, 390])
def test_an_agreement_from_a_page_left_open_shows_what_changed(browser_page, width):
    """Karim Benali opened the letter; meanwhile the principal changed it. His click on
    « Donner mon accord » is refused, and he is shown what changed before agreeing to
    the version that now stands."""
    from governance.models import User
    from workflow.services.content import update_letter

    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    call_command("load_demo")
    renewal = MissionLetter.objects.get(state=LetterState.CONCERTATION)
    letter_url = f"{page.base_url}/lettres/{renewal.pk}/"
    sign_in(page, "referent2")
    page.goto(letter_url)
    expect(page.get_by_text("Vous donnez votre accord sur la version 1")).to_be_visible()

    update_letter(
        letter_id=renewal.pk,
        user=User.objects.get(username="principal"),
        changes={"qualification": "Certification PIX niveau 6 exigée"},
    )
    page.get_by_role("button", name="Donner mon accord").click()
    page.wait_for_url(f"{letter_url}?depuis=1")
    refusal = page.get_by_text("La lettre a changé depuis qu'elle vous a été présentée")
    expect(refusal).to_be_visible()
    box = refusal.bounding_box()
    assert box is not None
    assert box["y"] < 900  # in view when the page opens, not scrolled past
    expect(page.get_by_role("heading", name="Ce qui a changé depuis la version 1")).to_be_visible()
    expect(page.get_by_text("Après : Certification PIX niveau 6 exigée")).to_be_visible()
    assert (
        LetterReferent.objects.get(letter=renewal, user__username="referent2").agreed_version
        is None
    )
    check(page, f"06-accord-refuse-{width}")

    page.get_by_role("button", name="Donner mon accord").click()
    expect(page.get_by_text("Accord enregistré sur la version")).to_be_visible()
    agreed = LetterReferent.objects.get(letter=renewal, user__username="referent2")
    assert agreed.agreed_version == 2
