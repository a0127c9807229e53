"""What each person sees of a letter beside its content, done as they do it (issue 28):
the councils' opinions and the signatures before signing, the report for the
principal, the DAN's received reports, next year's letter, and pages that fit a phone."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import check, sign_in, sign_out
from tests.factories import (
    advance,
    complete_report,
    fire,
    letter_with_doubts,
    make_letter,
    make_school,
)
from workflow.models import LetterState, MissionLetter

pytestmark = pytest.mark.django_db(transaction=True)


def _fits(page: Any) -> None:
    """Nothing sticks out sideways: the page scrolls only downwards."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
        .slice(0, 5).map(e => e.tagName + '#' + e.id)""")
    assert overflow <= 0, f"the page is {overflow} px wider than the screen: {wide}"


@pytest.mark.parametrize("width", [1280, 390])
def test_the_principal_weighs_the_opinions_then_signs(browser_page, width):
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    school = make_school(f"Pese{width}")
    letter = letter_with_doubts(school)
    sign_in(page, school.principal.username, "pw")
    page.goto(f"{page.base_url}/lettres/{letter.pk}/")
    opinions = page.get_by_role("region", name="Avis des conseils")
    expect(opinions.get_by_text("Réservé")).to_be_visible()
    expect(opinions.get_by_text("Préciser le rôle au CDI.")).to_be_visible()
    expect(opinions.get_by_text("Défavorable")).to_be_visible()
    expect(opinions.get_by_text("5 pour, 15 contre, 2 abstentions")).to_be_visible()
    warning = page.locator("#avis-a-peser")
    expect(warning.get_by_text("un conseil a émis des réserves")).to_be_visible()
    expect(warning.get_by_text("« Rouvrir la concertation »")).to_be_visible()
    # The expected step first, the way back after it.
    sign = page.get_by_role("button", name="Signer", exact=True)
    reopen = page.get_by_role("button", name="Rouvrir la concertation")
    assert sign.bounding_box()["y"] < reopen.bounding_box()["y"]
    _fits(page)
    check(page, f"avant-signature-{width}")
    sign.click()
    message = page.get_by_role("status").filter(has_text="Signature enregistrée sur la version 1.")
    expect(message).to_be_focused()
    signatures = page.get_by_role("region", name="Signatures de la version 1")
    expect(signatures.get_by_text(school.principal.get_full_name())).to_be_visible()
    expect(signatures.get_by_text("Le chef d'établissement")).to_be_visible()
    expect(signatures.get_by_text(school.referent1.get_full_name())).to_be_visible()  # to sign
    expect(page.get_by_role("button", name="Signer", exact=True)).to_have_count(0)
    _fits(page)
    check(page, f"apres-signature-{width}")


def test_the_principal_returns_the_report_and_the_referent_sees_why(browser_page):
    page = browser_page
    school = make_school("Renvoi")
    letter = make_letter(school)
    advance(letter, school, "report_due")
    complete_report(letter, school.referent1)
    fire(letter, "submit_report", school.referent1)
    sign_in(page, school.principal.username, "pw")
    page.goto(f"{page.base_url}/lettres/{letter.pk}/compte-rendu/")
    expect(page.get_by_role("heading", name="Missions")).to_be_visible()
    assert page.locator("textarea:disabled, select:disabled").count() == 0  # text, not fields
    expect(page.get_by_role("button", name="Accuser réception du compte rendu")).to_be_visible()
    page.get_by_label("Motif").fill("Chiffrer les certifications PIX.")
    page.get_by_role("button", name="Renvoyer le compte rendu").click()
    expect(page.get_by_role("status").filter(has_text="Compte rendu renvoyé")).to_be_focused()
    assert page.url.endswith("/compte-rendu/")
    check(page, "compte-rendu-renvoye")
    sign_out(page)

    sign_in(page, school.referent1.username, "pw")
    page.goto(f"{page.base_url}/lettres/{letter.pk}/compte-rendu/")
    reason = page.locator("#motif")
    expect(reason.get_by_text("Chiffrer les certifications PIX.")).to_be_visible()
    assert reason.bounding_box()["y"] < page.locator("#compte-rendu").bounding_box()["y"]
    check(page, "compte-rendu-a-completer")


def test_the_dan_opens_a_received_report_from_her_to_do(browser_page):
    page = browser_page
    school = make_school("Recu")
    letter = make_letter(school)
    advance(letter, school, "report_due")
    complete_report(letter, school.referent1)
    fire(letter, "submit_report", school.referent1)
    sign_in(page, school.dan.username, "pw")
    received = page.get_by_role("table").filter(has_text="Remis le")
    received.get_by_role("link", name=f"Lycée Recu — {letter.school_year.code}").click()
    page.wait_for_url(f"**/lettres/{letter.pk}/compte-rendu/")
    expect(page.get_by_text("Atteint").first).to_be_visible()
    check(page, "dan-compte-rendu-recu")


@pytest.mark.parametrize("width", [1280, 390])
def test_next_years_letter_in_one_click_and_the_editor_fits(browser_page, width):
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    school = make_school(f"Suite{width}")
    letter = make_letter(school)
    advance(letter, school, "in_force")
    sign_in(page, school.principal.username, "pw")
    page.goto(f"{page.base_url}/lettres/{letter.pk}/")
    page.get_by_role("button", name=f"Renouveler pour {school.next_year.code}").click()
    expect(page.get_by_role("status").filter(has_text="Brouillon")).to_be_focused()
    draft = MissionLetter.objects.get(
        establishment=school.establishment, school_year=school.next_year
    )
    assert draft.state == LetterState.DRAFT
    page.wait_for_url(f"**/lettres/{draft.pk}/")
    check(page, f"renouvelee-{width}")
    page.get_by_role("link", name="Rédiger la lettre").click()
    page.wait_for_url(f"**/lettres/{draft.pk}/modifier/")
    _fits(page)
    check(page, f"editeur-{width}")


def test_the_dashboard_table_fits_1280_px(browser_page):
    page = browser_page
    school = make_school("Large")
    make_letter(school)
    sign_in(page, school.dan.username, "pw")
    page.goto(f"{page.base_url}/tableau-de-bord/?annee={school.year.code}")
    table = page.get_by_role("table", name="Établissements de l'académie")
    hidden = table.evaluate("t => t.scrollWidth - t.parentElement.clientWidth")
    assert hidden <= 0, f"{hidden} px of the table are cut off"
    last = table.get_by_role("columnheader", name="Compte rendu").bounding_box()
    assert last["x"] + last["width"] <= 1280
    check(page, "tableau-de-bord-1280")
