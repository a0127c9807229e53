"""« Relancer » as the principal does it (issue 30): the letter's page lists whom it
waits for, a click sends one reminder, and the page says when and by whom; a second
click the same day is refused with the time of the first."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from governance.models import User
from tests.browser.helpers import check, sign_in
from tests.factories import advance, make_letter, make_school

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_the_principal_relances_a_referent_once_a_day(browser_page, width):
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    school = make_school(f"Relance{width}")
    letter = advance(make_letter(school), school, "concertation")
    User.objects.filter(pk=school.referent2.pk).update(
        email_failing_since=timezone.now(),
        email_failing_reason="550 5.1.1 Recipient address rejected",
    )
    sign_in(page, school.principal.username, "pw")
    page.goto(f"{page.base_url}/lettres/{letter.pk}/")
    awaited = page.locator("#attendus")
    expect(awaited).to_contain_text(school.referent1.get_full_name())
    expect(awaited).to_contain_text("Adresse en échec")
    name = school.referent1.get_full_name()
    awaited.get_by_role("button", name=f"Relancer {name}").click()
    expect(page.get_by_text(f"Relance envoyée à {name}")).to_be_visible()
    expect(page.locator("#attendus")).to_contain_text("relancé aujourd'hui à")
    check(page, f"relancer-{width}")
    page.locator("#attendus").get_by_role("button", name=f"Relancer {name}").click()
    expect(page.get_by_text("Déjà relancé aujourd'hui à")).to_be_visible()
