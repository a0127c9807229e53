"""The letter editor and the new-letter page, through Django's test client: what the
principal fills in reaches ``update_letter`` unchanged, a refused edit loses nothing,
and the envelope is checked before anything is saved."""

from __future__ import annotations

import re

import pytest
from django.utils.html import escape

from governance.models import CatalogItem, Role, RoleAssignment
from tests.factories import advance, make_letter, make_school, shown
from tests.html_forms import form_fields
from workflow.audit.snapshot import content_sha256
from workflow.lifecycle.engine import fire_transition
from workflow.models import LetterState, MissionLetter
from workflow.services.content import update_letter
from workflow.services.letters import create_letter

pytestmark = pytest.mark.django_db


def _editor(client, user, letter):
    client.force_login(user)
    response = client.get(f"/lettres/{letter.pk}/modifier/")
    assert response.status_code == 200
    return response.content.decode()


def _draft(school):
    return create_letter(
        user=school.principal, establishment=school.establishment, school_year=school.year
    )


def test_the_principal_writes_a_whole_letter_in_the_editor(client):
    school = make_school("Editor")
    letter = _draft(school)
    page = _editor(client, school.principal, letter)
    # Seed 004's checklist: the catalogue by heading, every teacher as a possible référent.
    assert page.count("<details") == 12
    assert "Karim Benali est référent(e) numérique" in page
    assert "hors périmètre" in page
    pix, ent = CatalogItem.objects.filter(outside_scope=False).order_by("id")[:2]
    r1, r2 = school.referent1, school.referent2
    fields = form_fields(page, "editeur")
    fields.update(
        {
            f"referent-{r1.pk}": ["1"],
            f"referent-{r1.pk}-mode": ["imp"],
            f"referent-{r1.pk}-imp": ["1250"],
            f"referent-{r1.pk}-share": ["Accompagnement des équipes"],
            f"referent-{r2.pk}": ["1"],
            f"referent-{r2.pk}-mode": ["decharge"],
            f"referent-{r2.pk}-hours": ["1,5"],  # the French decimal comma
            f"referent-{r2.pk}-imp": ["625"],  # a stale figure of the other mode: ignored
            f"item-{pix.pk}": ["1"],
            f"item-{pix.pk}-priority": ["principal"],
            f"item-{pix.pk}-referents": [r1.username, r2.username],
            f"item-{ent.pk}": ["1"],
            f"item-{ent.pk}-priority": ["secondary"],
            f"item-{ent.pk}-referents": [r2.username],
            "free-0-text": ["Animer le club robotique"],
            "free-0-priority": ["secondary"],
            "free-0-referents": [r2.username],
            "indicator-0-text": ["Sessions de prise en main"],
            "indicator-0-target": ["6 par an"],
            "means": ["office", "phone"],
            "follow_up": ["annual_review"],
            "qualification": ["Certification PIX"],
        }
    )
    response = client.post(f"/lettres/{letter.pk}/modifier/", fields)
    assert response.status_code == 302, response.content.decode()[:2000]
    letter.refresh_from_db()
    referents = {r.user.username: r for r in letter.referents.all()}
    assert str(referents[r1.username].imp_amount) == "1250.00"
    assert referents[r1.username].decharge_hours is None
    assert str(referents[r2.username].decharge_hours) == "1.50"
    assert referents[r2.username].imp_amount is None
    missions = list(letter.missions.order_by("order"))
    assert [m.text for m in missions] == [pix.text, ent.text, "Animer le club robotique"]
    assert [m.priority for m in missions] == ["principal", "secondary", "secondary"]
    assert {r.user.username for r in missions[0].referents.all()} == {r1.username, r2.username}
    assert [(i.text, i.target) for i in letter.indicators.all()] == [
        ("Sessions de prise en main", "6 par an")
    ]
    assert letter.means == ["office", "phone"]
    assert letter.qualification == "Certification PIX"
    shown = client.get(f"/lettres/{letter.pk}/").content.decode()
    assert re.search(r"confiée à (Sophie Durand, Karim Benali|Karim Benali, Sophie Durand)<", shown)
    assert "Moyens : Bureau, Téléphone." in shown


def test_saving_the_editor_unchanged_changes_nothing(client):
    """The page shows exactly the stored letter: sent back untouched in concertation, it
    neither raises the version nor voids the référents' agreements."""
    school = make_school("Roundtrip")
    letter = make_letter(school)
    fire_transition(letter_id=letter.pk, name="open_concertation", user=school.principal)
    fire_transition(letter_id=letter.pk, name="agree", user=school.referent1, payload=shown(letter))
    before = content_sha256(MissionLetter.objects.get(pk=letter.pk))
    fields = form_fields(_editor(client, school.principal, letter), "editeur")
    response = client.post(f"/lettres/{letter.pk}/modifier/", fields)
    assert response.status_code == 302
    letter.refresh_from_db()
    assert content_sha256(letter) == before
    assert letter.version == 1
    assert letter.referents.get(user=school.referent1).agreed_version == 1


def test_a_refused_edit_comes_back_as_typed_with_the_error_on_its_row(client):
    school = make_school("Refused")
    letter = make_letter(school)
    before = content_sha256(letter)
    r1 = school.referent1
    fields = form_fields(_editor(client, school.principal, letter), "editeur")
    fields[f"referent-{r1.pk}-imp"] = ["1000"]  # not a multiple of 312,50 €
    fields[f"referent-{r1.pk}-share"] = ["Texte saisi à ne pas perdre"]
    fields["indicator-2-text"] = ["Un indicateur ajouté"]
    response = client.post(f"/lettres/{letter.pk}/modifier/", fields)
    page = response.content.decode()
    assert response.status_code == 200
    assert "La lettre n'a pas été enregistrée" in page
    assert escape("Référent Sophie Durand : Le montant d'IMP 1") in page
    assert "Texte saisi à ne pas perdre" in page
    assert "Un indicateur ajouté" in page
    # The message stands on Sophie's own row, which is marked invalid.
    assert f'fr-background-contrast--error" id="referent-{r1.pk}-bloc"' in page
    assert f'aria-describedby="referent-{r1.pk}-erreur"' in page
    assert page.count("fr-background-contrast--error") == 1
    letter.refresh_from_db()
    assert content_sha256(letter) == before  # nothing saved


def test_an_edit_based_on_an_old_version_is_refused(client):
    school = make_school("Stale")
    letter = make_letter(school)
    fire_transition(letter_id=letter.pk, name="open_concertation", user=school.principal)
    fields = form_fields(_editor(client, school.principal, letter), "editeur")
    fields["base_version"] = ["0"]
    fields["qualification"] = ["Changée"]
    page = client.post(f"/lettres/{letter.pk}/modifier/", fields).content.decode()
    assert "rechargez-la" in page
    assert "Changée" in page
    letter.refresh_from_db()
    assert letter.qualification != "Changée"


def test_the_envelope_is_checked_live_before_saving(client):
    school = make_school("Envelope")
    letter = make_letter(school)
    r1, r2 = school.referent1, school.referent2
    fields = form_fields(_editor(client, school.principal, letter), "editeur")
    fields[f"referent-{r1.pk}-imp"] = ["3750"]
    fields[f"referent-{r2.pk}-mode"] = ["imp"]
    fields[f"referent-{r2.pk}-imp"] = ["625"]
    fragment = client.post(f"/lettres/{letter.pk}/modifier/enveloppe/", fields)
    text = fragment.content.decode()
    assert fragment.status_code == 200
    assert "4\u202f375,00" in text
    assert "dépasse l&#x27;enveloppe maximale" in text
    fields[f"referent-{r1.pk}-imp"] = ["1250"]
    text = client.post(f"/lettres/{letter.pk}/modifier/enveloppe/", fields).content.decode()
    assert "1\u202f875,00" in text
    assert "Dans l'enveloppe." in text
    # Without JavaScript, « Recalculer l'enveloppe » re-shows the form, saving nothing.
    fields["action"] = ["verifier"]
    page = client.post(f"/lettres/{letter.pk}/modifier/", fields).content.decode()
    assert "1\u202f875,00" in page
    letter.refresh_from_db()
    assert str(letter.referents.get(user=r2).decharge_hours) == "1.00"


def test_the_envelope_leaves_out_the_years_withdrawn_letter(client):
    """The year's envelope is this letter as edited: a letter of the same year that was
    withdrawn (3 125 €) gives nothing."""
    school = make_school("Others")
    withdrawn = make_letter(school, imp1="2500.00", hours2=None, imp2="625.00")
    fire_transition(
        letter_id=withdrawn.pk,
        name="withdraw",
        user=school.principal,
        payload={"reason": "Recommencer"},
    )
    draft = _draft(school)
    fields = form_fields(_editor(client, school.principal, draft), "editeur")
    fields[f"referent-{school.teacher.pk}"] = ["1"]
    fields[f"referent-{school.teacher.pk}-imp"] = ["1250"]
    text = client.post(f"/lettres/{draft.pk}/modifier/enveloppe/", fields).content.decode()
    assert "1\u202f250,00" in text
    assert "4\u202f375,00" not in text


def test_only_the_head_edits_and_only_while_the_letter_is_editable(client):
    school = make_school("Who")
    letter = make_letter(school)
    for person in (school.referent1, school.cp_secretary, school.dan):
        client.force_login(person)
        assert client.get(f"/lettres/{letter.pk}/modifier/").status_code == 403
        assert client.post(f"/lettres/{letter.pk}/modifier/enveloppe/").status_code == 403
    client.force_login(school.teacher)
    assert client.get(f"/lettres/{letter.pk}/modifier/").status_code == 404
    _editor(client, school.deputy, letter)  # by delegation
    page = client.get(f"/lettres/{letter.pk}/").content.decode()
    assert "Rédiger la lettre" in page
    advance(letter, school, LetterState.PEDAGOGICAL_COUNCIL)
    response = client.get(f"/lettres/{letter.pk}/modifier/", follow=True)
    assert "n&#x27;est plus modifiable" in response.content.decode()
    assert "Rédiger la lettre</a>" not in response.content.decode()


def test_the_principal_begins_a_letter_from_the_list(client):
    school = make_school("New")
    client.force_login(school.principal)
    assert "Nouvelle lettre" in client.get("/lettres/").content.decode()
    page = client.get("/lettres/nouvelle/").content.decode()
    assert school.establishment.uai in page
    assert school.next_year.code in page
    response = client.post(
        "/lettres/nouvelle/",
        {"etablissement": school.establishment.pk, "annee": school.next_year.pk},
    )
    letter = MissionLetter.objects.get(establishment=school.establishment)
    assert response.status_code == 302
    assert response["Location"] == f"/lettres/{letter.pk}/modifier/"
    assert letter.state == LetterState.DRAFT
    assert letter.school_year == school.next_year
    other = make_school("NotMine")
    response = client.post(
        "/lettres/nouvelle/",
        {"etablissement": other.establishment.pk, "annee": school.next_year.pk},
        follow=True,
    )
    assert "Choisissez l&#x27;établissement" in response.content.decode()
    assert not MissionLetter.objects.filter(establishment=other.establishment).exists()
    client.force_login(school.referent1)
    assert "Nouvelle lettre" not in client.get("/lettres/").content.decode()
    assert client.get("/lettres/nouvelle/").status_code == 403


def test_the_signature_shows_the_pdf_it_signs_framed_by_the_application_only(client):
    school = make_school("Preview")
    letter = advance(make_letter(school), school, LetterState.SIGNATURE)
    client.force_login(school.referent1)
    page = client.get(f"/lettres/{letter.pk}/").content.decode()
    assert f'<iframe class="fr-mb-2w" src="/api/v1/letters/{letter.pk}/pdf/"' in page
    assert content_sha256(letter) in page
    pdf = client.get(f"/api/v1/letters/{letter.pk}/pdf/")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in pdf["Content-Security-Policy"]
    other = client.get(f"/lettres/{letter.pk}/")
    assert other["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in other["Content-Security-Policy"]


def _roundtrip(client, school, letter):
    """Open the editor and save it untouched; the letter's hash before and after."""
    before = content_sha256(MissionLetter.objects.get(pk=letter.pk))
    fields = form_fields(_editor(client, school.principal, letter), "editeur")
    response = client.post(f"/lettres/{letter.pk}/modifier/", fields)
    return before, content_sha256(MissionLetter.objects.get(pk=letter.pk)), response


def test_an_unchanged_save_keeps_what_the_api_may_write(client):
    """Letters the API may hold and the editor must keep as they are: a catalogue
    mission in its own words, a shared IMP of ¾ (937,50 €), a free mission before the
    catalogue ones."""
    school = make_school("Keep")
    letter = _draft(school)
    pix, ent = CatalogItem.objects.filter(outside_scope=False).order_by("id")[:2]
    r1, r2 = school.referent1.username, school.referent2.username
    update_letter(
        letter_id=letter.pk,
        user=school.principal,
        changes={
            "referents": [
                {"user": r1, "mode": "imp", "imp_amount": "937.50"},
                {"user": r2, "mode": "decharge", "decharge_hours": "1.25"},
            ],
            "missions": [
                {"text": "Animer le club robotique", "priority": "secondary", "referents": [r2]},
                {"catalog_item": ent.pk, "priority": "principal", "referents": [r1]},
                {
                    "catalog_item": pix.pk,
                    "text": "Impulser les pratiques numériques en lycée professionnel",
                    "priority": "principal",
                    "referents": [r1, r2],
                },
            ],
        },
    )
    fire_transition(letter_id=letter.pk, name="open_concertation", user=school.principal)
    before, after, response = _roundtrip(client, school, letter)
    assert response.status_code == 302
    assert after == before
    assert MissionLetter.objects.get(pk=letter.pk).version == 1


def test_a_referent_who_left_the_school_is_shown_not_dropped(client):
    school = make_school("Left")
    letter = make_letter(school)
    RoleAssignment.objects.filter(user=school.referent2, role=Role.TEACHER).delete()
    page = _editor(client, school.principal, letter)
    assert "N&#x27;est plus enseignant(e)" in page or "N'est plus enseignant(e)" in page
    before, after, response = _roundtrip(client, school, letter)
    assert response.status_code == 200  # the service refuses: the principal decides
    assert "n&#x27;est pas enseignant de l&#x27;établissement" in response.content.decode()
    assert after == before
    fields = form_fields(_editor(client, school.principal, letter), "editeur")
    del fields[f"referent-{school.referent2.pk}"]
    for name in [k for k in fields if k.endswith("-referents")]:
        fields[name] = [u for u in fields[name] if u != school.referent2.username]
    assert client.post(f"/lettres/{letter.pk}/modifier/", fields).status_code == 302
    assert not letter.referents.filter(user=school.referent2).exists()


def test_a_save_refused_as_stale_shows_what_was_saved_then_stands_on_it(client):
    """Refused as stale, the page shows the other's save beside the input; it then
    stands on the version it shows, so a save made having seen it is taken."""
    school = make_school("Stale2")
    letter = make_letter(school)
    fire_transition(letter_id=letter.pk, name="open_concertation", user=school.principal)
    fields = form_fields(_editor(client, school.principal, letter), "editeur")
    update_letter(  # a colleague saves first: version 2
        letter_id=letter.pk, user=school.deputy, changes={"qualification": "Le sien"}
    )
    fields["qualification"] = ["Le mien"]
    first = client.post(f"/lettres/{letter.pk}/modifier/", fields).content.decode()
    assert "rechargez-la" in first
    assert f"Enregistré entre-temps par {school.deputy.get_full_name()} :" in first
    assert MissionLetter.objects.get(pk=letter.pk).qualification == "Le sien"
    again = form_fields(first, "editeur")
    assert again["qualification"] == ["Le mien"]  # as typed
    assert again["base_version"] == ["2"]  # the version shown beside it
    assert client.post(f"/lettres/{letter.pk}/modifier/", again).status_code == 302
    assert MissionLetter.objects.get(pk=letter.pk).qualification == "Le mien"


@pytest.mark.parametrize("hours", ["NaN", "Infinity", "sNaN", "douze"])
def test_hours_that_are_no_number_are_an_error_not_a_crash(client, hours):
    school = make_school(f"Hours{hours}")
    letter = make_letter(school)
    fields = form_fields(_editor(client, school.principal, letter), "editeur")
    fields[f"referent-{school.referent2.pk}-hours"] = [hours]
    response = client.post(f"/lettres/{letter.pk}/modifier/", fields)
    assert response.status_code == 200
    assert "n&#x27;est pas un nombre" in response.content.decode()
    envelope = client.post(f"/lettres/{letter.pk}/modifier/enveloppe/", fields)
    assert envelope.status_code == 200


def test_a_second_click_on_create_opens_the_draft_already_made(client):
    school = make_school("Twice")
    client.force_login(school.principal)
    form = {"etablissement": school.establishment.pk, "annee": school.next_year.pk}
    client.post("/lettres/nouvelle/", form)
    response = client.post("/lettres/nouvelle/", form)
    letter = MissionLetter.objects.get(establishment=school.establishment)
    assert response["Location"] == f"/lettres/{letter.pk}/"


def test_enter_in_a_field_saves_rather_than_recalculates(client):
    """A browser submits with the form's first submit button: « Enregistrer »."""
    school = make_school("Enter")
    page = _editor(client, school.principal, make_letter(school))
    form = page[page.index('id="editeur"') :]
    first_button = form[form.index("<button") : form.index("</button>")]
    assert 'name="action"' not in first_button
    assert "Enregistrer" in first_button
