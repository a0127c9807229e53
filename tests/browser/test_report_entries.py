"""Two référents writing the year-end report at once, each in their browser (issue
29): different missions are both kept; the same mission, saved from a page opened
before the other's save, is told with the other's text beside the typed one."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import check, sign_in
from tests.factories import advance, make_letter, make_school
from workflow.models import MissionOutcome

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_two_referents_write_the_report_at_once(browser_page, width):
    first = browser_page
    first.set_viewport_size({"width": width, "height": 900})
    school = make_school(f"Duo{width}")
    letter = advance(make_letter(school), school, "report_due")
    outcomes = list(MissionOutcome.objects.filter(report__letter=letter))
    one, two = outcomes[0].mission_id, outcomes[1].mission_id
    url = f"{first.base_url}/lettres/{letter.pk}/compte-rendu/"

    other = first.context.browser.new_context(
        locale="fr-FR", viewport={"width": width, "height": 900}
    )
    second = other.new_page()
    second.base_url = first.base_url
    sign_in(first, school.referent1.username, "pw")
    sign_in(second, school.referent2.username, "pw")
    first.goto(url)
    second.goto(url)

    # Different missions: both kept.
    first.locator(f"#comment-{one}").fill("Séances ENT faites en novembre")
    first.get_by_role("button", name="Enregistrer").click()
    expect(first.get_by_text("Compte rendu enregistré.")).to_be_visible()
    second.locator(f"#comment-{two}").fill("PIX : la moitié des classes")
    second.get_by_role("button", name="Enregistrer").click()
    expect(second.get_by_text("Compte rendu enregistré.")).to_be_visible()
    expect(second.locator(f"#comment-{one}")).to_have_value("Séances ENT faites en novembre")

    # The same mission from a stale page: told, the typed text kept, the other's beside.
    first.goto(url)
    first.locator(f"#comment-{two}").fill("PIX : toutes les classes de seconde")
    second.locator(f"#comment-{two}").fill("PIX : la moitié des classes, et les 3e")
    second.get_by_role("button", name="Enregistrer").click()
    expect(second.get_by_text("Compte rendu enregistré.")).to_be_visible()
    first.get_by_role("button", name="Enregistrer").click()
    conflict = first.locator(f"#conflit-outcome-{two}")
    expect(conflict).to_contain_text(school.referent2.get_full_name())
    expect(conflict).to_contain_text("PIX : la moitié des classes, et les 3e")
    expect(first.locator(f"#comment-{two}")).to_have_value("PIX : toutes les classes de seconde")
    check(first, f"compte-rendu-conflit-{width}")
    assert MissionOutcome.objects.get(report__letter=letter, mission_id=two).comment.endswith(
        "et les 3e"
    )

    # She keeps her own, deliberately.
    conflict.get_by_text("Le mien").click()
    first.get_by_role("button", name="Enregistrer").click()
    expect(first.get_by_text("Compte rendu enregistré.")).to_be_visible()
    assert (
        MissionOutcome.objects.get(report__letter=letter, mission_id=two).comment
        == "PIX : toutes les classes de seconde"
    )
    other.close()
