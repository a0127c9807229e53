"""The académie's dashboard as the DAN uses it (issue 31), at desk and phone widths:
the charts drawn by the DSFR's own component, a filter by département, a search by
name, a sort by a column, the second page; each page checked with axe-core and photographed."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from governance.models import (
    Academy,
    Establishment,
    EstablishmentKind,
    Role,
    RoleAssignment,
    User,
)
from tests.browser.helpers import check, sign_in
from tests.factories import advance, make_letter, make_school, next_uai
from workflow.selectors.dashboard import ROWS_PER_PAGE

pytestmark = pytest.mark.django_db(transaction=True)


def _fits(page: Any) -> None:
    """Nothing sticks out sideways: the page scrolls only downwards."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the screen"


def _uais(table: Any) -> list[str]:
    return [text.split()[0] for text in table.locator("tbody th .fr-text--xs").all_inner_texts()]


@pytest.mark.parametrize("width", [1280, 390])
def test_the_dan_filters_sorts_and_pages_the_establishments(browser_page: Any, width: int):
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    carnot = make_school(f"Carnot{width}")
    eiffel = make_school(f"Eiffel{width}")
    advance(make_letter(carnot), carnot, "in_force")  # 2 500 €
    make_letter(eiffel, imp1="312.50", hours2=None, imp2="312.50")  # a draft: 625 €
    Establishment.objects.filter(pk=carnot.establishment.pk).update(
        department_code="021", department_name="Côte-d'Or", city="Dijon"
    )
    Establishment.objects.filter(pk=eiffel.establishment.pk).update(
        department_code="071", department_name="Saône-et-Loire", city="Mâcon"
    )
    Establishment.objects.bulk_create(
        Establishment(
            uai=next_uai(),
            name=f"Collège Numéro {number:02d}",
            kind=EstablishmentKind.COLLEGE,
            city="Nevers",
            academy=carnot.establishment.academy,
            department_code="058",
            department_name="Nièvre",
        )
        for number in range(ROWS_PER_PAGE)
    )
    sign_in(page, carnot.dan.username, "pw")
    page.goto(f"{page.base_url}/tableau-de-bord/?annee={carnot.year.code}")
    expect(
        page.get_by_role("heading", name="Tableau de bord — Académie de Dijon, 2026-2027")
    ).to_be_visible()
    # The DSFR's chart component, served from here, draws both charts.
    expect(page.locator("bar-chart canvas")).to_have_count(2)
    table = page.get_by_role("table", name="Établissements de l'académie")
    expect(table).to_contain_text("page 1 sur 2")
    _fits(page)
    if width == 1280:  # every column shows, none is cut off
        hidden = table.evaluate("t => t.scrollWidth - t.parentElement.clientWidth")
        assert hidden <= 0, f"{hidden} px of the table are cut off"
        header = table.get_by_role("columnheader", name="Compte rendu").bounding_box()
        assert header["x"] + header["width"] <= 1280
    check(page, f"tableau-de-bord-{width}")

    # Filter by département.
    page.get_by_label("Département").select_option("021")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url("**departement=021**")
    expect(table).to_contain_text("1 résultat")
    assert _uais(table) == [carnot.establishment.uai]
    expect(table.get_by_role("cell", name="2\u202f500,00\u00a0€")).to_be_visible()
    check(page, f"tableau-de-bord-filtre-{width}")

    # A name typed in a hurry, without its accent or capital: « lycee eiffel… ».
    page.get_by_label("Département").select_option("")
    page.get_by_label("Nom ou UAI").fill(f"lycee eiffel{width}")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url("**recherche=**")
    expect(table).to_contain_text("1 résultat")
    assert _uais(table) == [eiffel.establishment.uai]
    check(page, f"tableau-de-bord-recherche-{width}")

    # Back to every establishment, sorted by the envelope, the largest first.
    page.get_by_label("Nom ou UAI").fill("")
    page.get_by_role("button", name="Filtrer").click()
    page.get_by_role("link", name="Trier par Enveloppe, tri croissant").click()
    page.wait_for_url("**tri=enveloppe**")
    envelope = table.get_by_role("columnheader", name="Enveloppe")
    expect(envelope).to_have_attribute("aria-sort", "ascending")
    page.get_by_role("link", name="Trier par Enveloppe, tri décroissant").click()
    page.wait_for_url("**tri=-enveloppe**")
    expect(envelope).to_have_attribute("aria-sort", "descending")
    assert _uais(table)[:2] == [carnot.establishment.uai, eiffel.establishment.uai]
    check(page, f"tableau-de-bord-tri-{width}")

    # The second page, the sort kept: the establishments without a letter.
    page.get_by_role("link", name="Page suivante").click()
    page.wait_for_url("**page=2**")
    expect(table).to_contain_text("page 2 sur 2")
    assert "tri=-enveloppe" in page.url
    assert len(_uais(table)) == 2  # 52 establishments, 50 a page
    expect(table.get_by_role("cell", name="Aucune lettre").first).to_be_visible()
    _fits(page)
    check(page, f"tableau-de-bord-page-2-{width}")


@pytest.mark.parametrize("width", [1280, 390])
def test_the_national_role_goes_from_every_academy_to_one(browser_page: Any, width: int):
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    carnot = make_school("CarnotNational")
    advance(make_letter(carnot), carnot, "in_force")
    elsewhere = Academy.objects.create(code="besancon", name="Académie de Besançon")
    make_school("Besancon", academy=elsewhere)
    national = User.objects.create_user("dne", first_name="Inès", last_name="Garcia")
    national.set_password("pw")
    national.save()
    RoleAssignment.objects.create(user=national, role=Role.NATIONAL)
    sign_in(page, "dne", "pw")
    # Nothing waits for her on « À faire »: it leads her to the dashboard.
    page.goto(f"{page.base_url}/")
    expect(page.get_by_text("Rien ne vous attend pour l'instant.")).to_be_visible()
    # Her role is held nowhere in particular: it is named alone.
    expect(
        page.get_by_text("Direction du numérique pour l'éducation (lecture nationale)", exact=True)
    ).to_be_visible()
    check(page, f"vue-nationale-a-faire-{width}")
    page.get_by_role("link", name="Voir le tableau de bord").click()
    table = page.get_by_role("table", name="Chiffres clés par académie")
    expect(table.get_by_role("row")).to_have_count(3)  # the header, two académies
    _fits(page)
    if width == 1280:  # at a phone's width, the table scrolls inside its frame
        hidden = table.evaluate("t => t.scrollWidth - t.parentElement.clientWidth")
        assert hidden <= 0, f"{hidden} px of the table are cut off"
    check(page, f"vue-nationale-{width}")
    table.get_by_role("link", name="Académie de Dijon").click()
    expect(
        page.get_by_role("heading", name="Tableau de bord — Académie de Dijon, 2026-2027")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Toutes les académies")).to_be_visible()
    check(page, f"vue-nationale-dijon-{width}")
