"""The concertation thread in Chromium, at a desk and on a phone: Sophie Durand
(référent) asks for a change, watching the count of characters as she types, and
corrects her typo within 15 minutes; Claire Martin (principal) sees the request open
at the top of the thread and answers it. Every page is checked with axe-core and
photographed (``commentaires-…``)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from governance.demo import CARNOT_UAI
from tests.browser.helpers import check, sign_in, sign_out
from workflow.models import Comment, LetterState, MissionLetter
from workflow.selectors.comments import request_state, thread
from workflow.services.comments import edit_comment

pytestmark = pytest.mark.django_db(transaction=True)

SPACE = r"[\s\u202f\u00a0]"  # the thousands' separator, as the browser's French writes it


def _sign_out(page: Any, width: int) -> None:
    """On a phone, « Se déconnecter » is in the « Menu » dialog."""
    if width >= 992:
        sign_out(page)
        return
    page.get_by_role("button", name="Menu").click()
    page.locator("#modal-menu").get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/connexion/")


def _tick(page: Any, control_id: str) -> None:
    page.locator(f"label[for='{control_id}']").click()
    expect(page.locator(f"#{control_id}")).to_be_checked()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_change_request_corrected_by_its_author_then_answered(browser_page: Any, width: int):
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    call_command("load_demo")
    letter = MissionLetter.objects.get(
        establishment__uai=CARNOT_UAI, state=LetterState.CONCERTATION
    )
    letter_url = f"{page.base_url}/lettres/{letter.pk}/"

    # Sophie Durand writes, and sees how many characters she has left.
    sign_in(page, "referent1")
    page.goto(letter_url)
    box = page.get_by_label("Votre message")
    counter = page.locator("#commentaire-compte")
    expect(counter).to_be_visible()
    expect(counter).to_have_text(re.compile(rf"^0 / 5{SPACE}000 caractères$"))
    assert "commentaire-compte" in (box.get_attribute("aria-describedby") or "")
    box.fill("x" * 5003)
    expect(counter).to_have_text(re.compile(rf"^5{SPACE}003 / 5{SPACE}000 caractères : 3 de trop$"))
    expect(counter).to_have_class(re.compile(r"\bfr-error-text\b"))
    typed = "Pouvez-vous retirer la mision ENT ? Je n'ai pas les accès."
    box.fill(typed)
    expect(counter).to_have_text(re.compile(rf"^{len(typed)} / 5{SPACE}000 caractères$"))
    expect(counter).to_have_class(re.compile(r"\bfr-hint-text\b"))
    _tick(page, "demande-modification")
    check(page, f"commentaires-01-demande-saisie-{width}")
    page.get_by_role("button", name="Publier").click()
    expect(page.get_by_role("status").filter(has_text="Message publié.")).to_be_visible()
    request = Comment.objects.get(letter=letter, is_change_request=True)
    message = page.locator(f"#message-{request.pk}")
    expect(message.get_by_text("Demande de modification", exact=True)).to_be_visible()
    expect(message.get_by_text("Ouverte", exact=True)).to_be_visible()

    # She spots her typo and corrects it: she has 15 minutes.
    message.get_by_role("link", name=re.compile("Corriger ou supprimer ce message")).click()
    page.wait_for_url(f"**/commentaires/{request.pk}/corriger/")
    correction = page.get_by_label("Message corrigé")
    expect(correction).to_have_value(typed)
    expect(page.locator("#correction-compte")).to_have_text(
        re.compile(rf"^{len(typed)} / 5{SPACE}000 caractères$")
    )
    correction.fill(typed.replace("mision", "mission"))
    check(page, f"commentaires-02-correction-{width}")
    page.get_by_role("button", name="Enregistrer la correction").click()
    page.wait_for_url(letter_url)
    expect(page.get_by_role("status").filter(has_text="Message corrigé.")).to_be_visible()
    expect(message.locator(".fr-callout__text")).to_contain_text("retirer la mission ENT")
    expect(message.get_by_text(re.compile(r"corrigé le \d\d/\d\d/\d{4}"))).to_be_visible()
    request.refresh_from_db()
    assert "mission ENT" in request.body
    assert request.edited_at is not None
    # Her page lists no requests to answer: that is the principal's.
    expect(page.get_by_text("Demandes de modification ouvertes")).to_have_count(0)
    _sign_out(page, width)

    # Claire Martin sees the request open at the top of the thread, and answers it.
    sign_in(page, "principal")
    page.goto(letter_url)
    summary = page.locator("#demandes-modification")
    expect(
        summary.get_by_role("heading", name="Demandes de modification ouvertes : 1")
    ).to_be_visible()
    expect(summary.get_by_text("Ouverte", exact=True)).to_be_visible()
    check(page, f"commentaires-03-principal-demande-ouverte-{width}")
    summary.get_by_role("link", name=re.compile("Sophie Durand")).click()
    page.wait_for_url(f"**/lettres/{letter.pk}/#message-{request.pk}")
    message.get_by_text("Répondre à cette demande").click()
    message.get_by_label("Votre réponse").fill("C'est retiré : voyez la version 2.")
    # Meanwhile, Sophie Durand corrects her request once more: the answer written to
    # the old text is not published; the page says so, and keeps it.
    edit_comment(
        letter_id=letter.pk,
        comment_id=request.pk,
        user=request.author,
        body=request.body + " Et la mission PIX aussi.",
    )
    message.get_by_role("button", name="Envoyer la réponse").click()
    expect(message.get_by_text(re.compile("La demande a été modifiée entre-temps"))).to_be_visible()
    expect(message.locator(".fr-callout__text")).to_contain_text("Et la mission PIX aussi.")
    expect(message.get_by_label("Votre réponse")).to_have_value(
        "C'est retiré : voyez la version 2."
    )
    assert not Comment.objects.filter(letter=letter, answers=request).exists()
    check(page, f"commentaires-03b-reponse-a-une-demande-corrigee-{width}")
    message.get_by_label("Votre réponse").fill("ENT et PIX sont retirés : voyez la version 2.")
    message.get_by_role("button", name="Envoyer la réponse").click()
    expect(page.get_by_role("status").filter(has_text="Réponse publiée.")).to_be_visible()
    expect(
        summary.get_by_role("heading", name="Demandes de modification ouvertes : 0")
    ).to_be_visible()
    expect(message.get_by_text("Répondue", exact=True)).to_be_visible()
    answer = Comment.objects.get(letter=letter, answers=request)
    expect(
        page.locator(f"#message-{answer.pk}").get_by_role(
            "link", name=re.compile("En réponse à la demande de modification de Sophie Durand")
        )
    ).to_be_visible()
    check(page, f"commentaires-04-principal-repondu-{width}")
    assert request_state(thread(letter).get(pk=request.pk)) == "answered"
