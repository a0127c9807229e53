"""When the service cannot do what was asked, the page says so in French and leads back:
the database gone (503, « Service momentanément indisponible »), and a form too large to
read (400, « Requête invalide »), at desktop and phone widths, checked with axe-core."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError, connections
from playwright.sync_api import expect

from tests.browser.helpers import check, sign_in
from tests.factories import advance, make_letter, make_school
from workflow.models import Comment

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_the_database_gone_shows_the_503_page_then_the_service_comes_back(
    browser_page: Any, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    school = make_school("Coupure")
    sign_in(page, school.principal.username, "pw")

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection to server at 127.0.0.1, port 5432 failed")

    # On the class: the live server's thread has a connection of its own.
    monkeypatch.setattr(type(connections["default"]), "cursor", refuse)
    response = page.goto(f"{page.base_url}/lettres/")
    assert response is not None
    assert response.status == 503
    assert response.headers["retry-after"] == "30"
    expect(
        page.get_by_role("heading", level=1, name="Service momentanément indisponible")
    ).to_be_visible()
    expect(page.get_by_text("Erreur 503")).to_be_visible()
    expect(page.get_by_text("ne parvient pas à joindre sa base de données")).to_be_visible()
    expect(page.get_by_text("5432")).to_have_count(0)
    check(page, f"erreur-503-{width}")

    monkeypatch.undo()  # the database is back
    page.get_by_role("link", name="Page d'accueil").click()
    expect(page.get_by_role("heading", level=1, name="Bonjour, Claire Martin")).to_be_visible()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_message_too_large_to_read_shows_the_400_page(browser_page: Any, width: int) -> None:
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    school = make_school("Collage")
    letter = advance(make_letter(school), school, "concertation")
    sign_in(page, school.principal.username, "pw")
    page.goto(f"{page.base_url}/lettres/{letter.pk}/")
    # A whole document pasted by mistake: 3 MB, beyond what the service reads.
    page.get_by_label("Votre message").fill("x" * 3_000_000)
    page.get_by_role("button", name="Publier").click()
    expect(page.get_by_role("heading", level=1, name="Requête invalide")).to_be_visible()
    expect(page.get_by_text("Erreur 400")).to_be_visible()
    expect(page.get_by_text("Rien n'a été enregistré.")).to_be_visible()
    check(page, f"erreur-400-{width}")
    assert not Comment.objects.filter(letter=letter).exists()

    page.get_by_role("link", name="Retour à la page précédente").click()
    page.wait_for_url(f"{page.base_url}/lettres/{letter.pk}/")
    expect(page.get_by_label("Votre message")).to_be_visible()
