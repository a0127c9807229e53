"""Every form works with the keyboard alone (RGAA 4.1 criterion 12.13 / WCAG 2.1.1):
sign in, post a message in the concertation, agree, record a council's opinion with
the radio buttons, sign out. No click and no fill: the focus moves with Tab (and the
arrow keys inside a group of radio buttons), text is typed where the focus is, and
each element reached shows where the focus is (WCAG 2.4.7)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.helpers import check, focus_is_visible, focused, tab_to
from workflow.models import (
    Comment,
    LetterReferent,
    LetterState,
    MissionLetter,
    Opinion,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _reach(page: Any, predicate: Any) -> dict[str, Any]:
    """Tab to an element and check that its focus can be seen."""
    element = tab_to(page, predicate)
    assert focus_is_visible(page), f"no visible focus on {element}"
    return element


def _submit(page: Any, key: str = "Enter") -> None:
    """Press ``key`` on the focused button and wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press(key)


def _labelled(label: str) -> Any:
    return lambda element: element["label"].startswith(label)


def _button(text: str) -> Any:
    return lambda element: element["tag"] == "button" and element["text"] == text


def _link(text: str) -> Any:
    return lambda element: element["tag"] == "a" and element["text"].startswith(text)


def _sign_in_with_the_keyboard(page: Any, username: str) -> None:
    page.goto(f"{page.base_url}/connexion/")
    # The first Tab reaches the « Contenu » skip link, and it leads to the content.
    page.keyboard.press("Tab")
    first = focused(page)
    assert first is not None
    assert first["text"] == "Contenu"
    assert first["href"] == "#contenu"
    assert focus_is_visible(page)
    page.keyboard.press("Enter")
    # The fragment navigation lands a moment after the key press: wait for it.
    page.wait_for_url("**/connexion/#contenu")
    page.wait_for_function("document.activeElement.id === 'contenu'")
    _reach(page, _labelled("Identifiant"))
    page.keyboard.type(username)
    _reach(page, _labelled("Mot de passe"))
    page.keyboard.type("demo")
    _submit(page)
    assert page.url == f"{page.base_url}/"


def _sign_out_with_the_keyboard(page: Any) -> None:
    _reach(page, _button("Se déconnecter"))
    _submit(page)
    assert page.url.endswith("/connexion/")


def test_discuss_agree_and_record_an_opinion_with_the_keyboard_alone(browser_page: Any) -> None:
    page = browser_page
    call_command("load_demo")
    renewal = MissionLetter.objects.get(
        establishment__uai="0210015C", state=LetterState.CONCERTATION
    )
    title = f"Lycée Carnot — {renewal.school_year.code}"

    # referent2: from À faire to the letter, a message, then the agreement.
    _sign_in_with_the_keyboard(page, "referent2")
    _reach(page, _link(title))
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/lettres/{renewal.pk}/")
    _reach(page, _labelled("Votre message"))
    page.keyboard.type("Je reprends le site web si la Région ouvre l'accès.")
    _reach(page, _button("Publier"))
    _submit(page)
    expect(page.get_by_role("status").filter(has_text="Message publié.")).to_be_visible()
    assert Comment.objects.filter(letter=renewal, author__username="referent2").count() == 1
    _reach(page, _button("Donner mon accord"))
    _submit(page, "Space")  # a button answers Space as well as Enter
    expect(page.get_by_role("status").filter(has_text="Accord enregistré")).to_be_focused()
    assert LetterReferent.objects.get(letter=renewal, user__username="referent2").agreed_version
    check(page, "clavier-01-accord-referent2")
    _sign_out_with_the_keyboard(page)

    # principal2: the conseil pédagogique's opinion on the Collège's letter, choosing
    # the opinion with the arrow keys among the radio buttons.
    college = MissionLetter.objects.get(
        establishment__uai="0211234C", state=LetterState.PEDAGOGICAL_COUNCIL
    )
    _sign_in_with_the_keyboard(page, "principal2")
    _reach(page, _link(f"Collège Gustave-Eiffel — {college.school_year.code}"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/lettres/{college.pk}/")
    # The meeting list offers the meetings held: the first one is the last held.
    _reach(page, _labelled("Séance"))
    # Into the group of radios: Tab lands on the checked one, the arrows move the choice.
    radio = _reach(page, lambda e: e["type"] == "radio")
    assert radio["value"] == "favorable"
    page.keyboard.press("ArrowDown")
    moved = focused(page)
    assert moved is not None
    assert moved["value"] == "defavorable"
    assert page.get_by_label("Défavorable").is_checked()
    _reach(page, _labelled("Observations"))
    page.keyboard.type("Les missions d'administration de l'ENT relèvent du Département.")
    check(page, "clavier-02-avis-cp")
    _reach(page, _button("Saisir l'avis du conseil pédagogique"))
    _submit(page)
    expect(page.get_by_role("status").filter(has_text="conseil pédagogique")).to_be_focused()
    opinion = Opinion.objects.get(letter=college)
    assert (opinion.opinion, opinion.remarks) == (
        "defavorable",
        "Les missions d'administration de l'ENT relèvent du Département.",
    )
    assert MissionLetter.objects.get(pk=college.pk).state == LetterState.BOARD
    check(page, "clavier-03-avis-enregistre")
    _sign_out_with_the_keyboard(page)
