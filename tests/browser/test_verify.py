"""The public check of a sealed letter in a real browser, by someone who is not signed
in, at desktop and phone widths, checked with axe-core: the letter's page from its
printed address, then the upload of the genuine file and of a modified one."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from notifications.services import render_pending_seals
from tests.browser.helpers import ARTIFACTS, check
from tests.factories import advance, make_letter, make_school
from workflow.models import SealedLetter

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_anyone_checks_a_sealed_letter(browser_page, settings, tmp_path: Path, width):
    settings.MEDIA_ROOT = tmp_path
    cache.clear()  # the check's rate limit counts per address and minute
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    school = make_school(f"Verif{width}")
    letter = advance(make_letter(school), school, "in_force")
    assert render_pending_seals() == 1
    record = SealedLetter.objects.get(letter=letter)
    with record.file.open("rb") as stored:
        pdf = stored.read()
    genuine = tmp_path / "lettre-scellee.pdf"
    genuine.write_bytes(pdf)
    modified = tmp_path / "lettre-modifiee.pdf"
    changed = bytearray(pdf)
    changed[pdf.index(b"stream", len(pdf) // 3) + 20] ^= 0x01
    modified.write_bytes(bytes(changed))

    # The address printed on the PDF, opened without signing in.
    page.goto(f"{page.base_url}/verifier/{record.token}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Vérifier une lettre de mission scellée"
    )
    expect(page.get_by_text(f"Lettre de mission du {school.establishment.name}")).to_be_visible()
    expect(page.get_by_role("cell", name=school.principal.get_full_name())).to_be_visible()
    expect(page.get_by_text(record.sha256)).to_be_visible()
    expect(page.get_by_role("button", name="Se déconnecter")).to_have_count(0)
    check(page, f"verifier-lettre-{width}")

    # The genuine file, uploaded: authentic, and which letter it is.
    page.get_by_role("link", name="vérifier un document").click()
    page.wait_for_url("**/verifier/")
    check(page, f"verifier-formulaire-{width}")
    page.get_by_label("Le document à vérifier (PDF)").set_input_files(str(genuine))
    page.get_by_role("button", name="Vérifier", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Document authentique")
    expect(
        page.get_by_role("heading", name=f"Lettre de mission du {school.establishment.name}")
    ).to_be_visible()
    check(page, f"verifier-authentique-{width}")

    # A modified copy: said so.
    page.get_by_label("Le document à vérifier (PDF)").set_input_files(str(modified))
    page.get_by_role("button", name="Vérifier", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Document modifié")
    check(page, f"verifier-modifie-{width}")
    assert (ARTIFACTS / f"verifier-modifie-{width}.png").exists()
