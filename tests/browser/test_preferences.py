"""« Mes notifications » in a real browser, at desktop and phone widths: reached from the
header, a daily digest at 17 h chosen and saved, the message read, checked with axe-core."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from notifications.models import NotificationPreference
from tests.browser.helpers import check, sign_in
from tests.factories import make_school

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/shots")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_referent_chooses_a_daily_digest_at_17_h(browser_page, width):
    page = browser_page
    school = make_school("Courriels")
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, school.referent1.username, "pw")
    SHOTS.mkdir(exist_ok=True)

    if width < 992:  # the DSFR folds the header's tools into its menu
        page.get_by_role("button", name="Menu").click()
        page.locator("#modal-menu").get_by_role("link", name="Mes notifications").click()
    else:
        page.get_by_role("link", name="Mes notifications").click()
    page.wait_for_url(f"{page.base_url}/mes-notifications/")
    expect(page.get_by_role("heading", level=1, name="Mes notifications")).to_be_visible()
    expect(page.get_by_text("Toujours envoyés aussitôt")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"h4-preferences-{width}.png"), full_page=True)

    page.locator("label[for='mode-digest']").click()
    page.get_by_role("combobox", name="Heure du récapitulatif quotidien").select_option("17")
    page.get_by_role("combobox", name="Messages de la concertation").select_option("digest")
    page.get_by_role("combobox", name="Signatures et entrée en vigueur").select_option("immediate")
    page.get_by_role("button", name="Enregistrer mes préférences").click()

    expect(page.get_by_role("status")).to_contain_text("Vos préférences sont enregistrées.")
    expect(page.locator("#mode-digest")).to_be_checked()
    expect(page.get_by_role("combobox", name="Heure du récapitulatif quotidien")).to_have_value(
        "17"
    )
    page.screenshot(path=str(SHOTS / f"h4-preferences-saved-{width}.png"), full_page=True)
    check(page, f"mes-notifications-{width}")
    preference = NotificationPreference.objects.get(user=school.referent1)
    assert (preference.mode, preference.digest_hour) == ("digest", 17)
    assert preference.kinds == {"comments": "digest", "signatures": "immediate"}
