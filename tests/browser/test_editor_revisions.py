"""Two heads in the editor at once (issue 29), in two browsers: the principal's save
from a page left open is refused, what she typed stays, and beside each part the
deputy saved meanwhile, what he saved; saving again keeps both people's work. A
message's correction from a window left open comes back beside the text saved."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import check, sign_in
from tests.factories import make_letter, make_school
from workflow.lifecycle.engine import fire_transition
from workflow.models import Comment, MissionLetter
from workflow.services.comments import add_comment, edit_comment

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/shots")


@pytest.mark.parametrize("width", [1280, 390])
def test_the_principal_sees_beside_her_input_what_the_deputy_saved(browser_page, width):
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    school = make_school(f"Cote{width}")
    letter = make_letter(school)
    url = f"{page.base_url}/lettres/{letter.pk}/modifier/"
    deputy_context = page.context.browser.new_context(
        locale="fr-FR", viewport={"width": width, "height": 900}
    )
    deputy = deputy_context.new_page()
    deputy.base_url = page.base_url
    try:
        sign_in(page, school.principal.username, "pw")
        page.goto(url)  # opened first, saved last
        sign_in(deputy, school.deputy.username, "pw")
        deputy.goto(url)
        deputy.get_by_label("Autres moyens", exact=False).fill("Salle B12")
        deputy.get_by_role("textbox", name="Mission libre n° 1").fill(
            "Animer le club robotique et le FabLab"
        )
        deputy.get_by_role("button", name="Enregistrer").first.click()
        expect(deputy.get_by_role("status").filter(has_text="Lettre enregistrée.")).to_be_visible()
    finally:
        deputy_context.close()

    page.get_by_label("Qualification du référent").fill("PIX niveau 3")
    page.get_by_role("textbox", name="Mission libre n° 1").fill("Animer le club de robotique")
    page.get_by_role("button", name="Enregistrer").first.click()
    deputy_name = school.deputy.get_full_name()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(f"{deputy_name} a enregistré la lettre")
    expect(alert.get_by_role("link", name="Autres moyens")).to_be_visible()
    # Her input, as typed.
    expect(page.get_by_label("Qualification du référent")).to_have_value("PIX niveau 3")
    expect(page.get_by_role("textbox", name="Mission libre n° 1")).to_have_value(
        "Animer le club de robotique"
    )
    # Beside « Autres moyens », which she had not touched: his value, taken.
    means = page.locator("#means_other-entre-temps")
    expect(means).to_contain_text(f"Enregistré entre-temps par {deputy_name} : Salle B12")
    expect(page.get_by_label("Autres moyens", exact=False)).to_have_value("Salle B12")
    # Beside the missions both changed: his, for her to choose.
    missions = page.locator("#free_missions-entre-temps")
    expect(missions).to_contain_text("Animer le club robotique et le FabLab")
    expect(missions).to_contain_text("Vous l'aviez modifiée aussi")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"h1-editor-stale-{width}.png"), full_page=True)
    alert.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"h1-editor-alert-{width}.png"))
    means.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"h1-editor-means-{width}.png"))
    missions.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"h1-editor-missions-{width}.png"))
    check(page, f"editeur-entre-temps-{width}")
    stored = MissionLetter.objects.get(pk=letter.pk)
    assert (stored.means_other, stored.qualification) == ("Salle B12", letter.qualification)

    page.get_by_role("button", name="Enregistrer").first.click()
    expect(page.get_by_role("status").filter(has_text="Lettre enregistrée.")).to_be_visible()
    stored = MissionLetter.objects.get(pk=letter.pk)
    assert (stored.means_other, stored.qualification) == ("Salle B12", "PIX niveau 3")
    assert "Animer le club de robotique" in stored.missions.values_list("text", flat=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_a_correction_from_a_window_left_open_shows_the_text_saved_meanwhile(browser_page, width):
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    school = make_school(f"Fenetre{width}")
    letter = make_letter(school)
    fire_transition(letter_id=letter.pk, name="open_concertation", user=school.principal)
    comment = add_comment(letter_id=letter.pk, user=school.referent1, body="Bonjuor à tous")
    sign_in(page, school.referent1.username, "pw")
    page.goto(f"{page.base_url}/lettres/{letter.pk}/commentaires/{comment.pk}/corriger/")
    edit_comment(  # the same person, from another window
        letter_id=letter.pk, comment_id=comment.pk, user=school.referent1, body="Bonjour à tous"
    )
    page.get_by_label("Message corrigé").fill("Bonjour à toutes et à tous")
    page.get_by_role("button", name="Enregistrer la correction").click()
    expect(page.get_by_label("Message corrigé")).to_have_value("Bonjour à toutes et à tous")
    beside = page.locator("#texte-entre-temps")
    expect(beside).to_contain_text("Texte enregistré entre-temps :")
    expect(beside).to_contain_text("Bonjour à tous")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"h1-comment-stale-{width}.png"), full_page=True)
    check(page, f"message-entre-temps-{width}")
    assert Comment.objects.get(pk=comment.pk).body == "Bonjour à tous"
    page.get_by_role("button", name="Enregistrer la correction").click()
    expect(page.get_by_role("status").filter(has_text="Message corrigé.")).to_be_visible()
    assert Comment.objects.get(pk=comment.pk).body == "Bonjour à toutes et à tous"
