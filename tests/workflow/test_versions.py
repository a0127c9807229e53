"""A letter's versions (``workflow.versions``): what was given stays as it was given.

- renaming a person, a catalogue item, a heading or the establishment changes nothing of
  a letter in force: its content, its hash, its PDF, its signatures, its history;
- an agreement names the version it was given on: one given on a version that has
  changed since is refused, over the API and on the page, which shows what changed;
- an edit in concertation writes the next version, and the earlier one reads on as it
  was; the diff names what changed;
- the canonical form of a content is fixed, byte for byte (the golden test).
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps as django_apps
from django.core.management import CommandError, call_command
from django.test import Client
from pypdf import PdfReader
from rest_framework.test import APIClient

from governance.imp import format_euros
from governance.models import (
    CatalogHeading,
    CatalogItem,
    Establishment,
    SchoolYear,
    User,
)
from governance.services import update_person
from tests.factories import advance, letter_content, make_letter, make_school, shown
from tests.html_forms import form_fields
from workflow.audit.chain import verify_chains, verify_versions
from workflow.audit.pdf import render_letter_pdf
from workflow.audit.snapshot import (
    IndicatorRow,
    LetterContent,
    MissionRow,
    ReferentRow,
    canonical_json,
    content_snapshot,
    full_snapshot,
    sha256_hex,
)
from workflow.audit.versions import current_version, version_of
from workflow.errors import ConditionsUnmet
from workflow.lifecycle.engine import fire_transition
from workflow.models import LetterReferent, LetterVersion, MissionLetter, Signature
from workflow.services.content import update_letter

pytestmark = pytest.mark.django_db


def _api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _pdf_text(letter: MissionLetter) -> str:
    with time_machine.travel(dt.datetime(2027, 1, 4, 10, tzinfo=dt.UTC), tick=False):
        pdf = render_letter_pdf(full_snapshot(MissionLetter.objects.get(pk=letter.pk)))
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


# Renames ------------------------------------------------------------------------------------


def test_renaming_people_catalogue_and_establishment_leaves_a_letter_in_force_as_signed():
    school = make_school("Gel")
    letter = advance(make_letter(school), school, "in_force")
    api = _api(school.principal)
    before = api.get(f"/api/v1/letters/{letter.pk}/").json()
    pdf_before = _pdf_text(letter)
    signed = set(Signature.objects.filter(letter=letter).values_list("snapshot_sha256", flat=True))
    assert signed == {before["snapshot_sha256"]}
    signed_as = school.referent1.get_full_name()
    assert signed_as in pdf_before

    # The directory renames a référent (as the OIDC sign-in does), an administrator
    # rewords a catalogue item and its heading, the establishment changes its name.
    update_person(school.referent1, {"first_name": "Sophia", "last_name": "Durand-Vidal"})
    first = letter.missions.order_by("order").values_list("catalog_item_id", flat=True)[0]
    item = CatalogItem.objects.get(pk=first)
    CatalogItem.objects.filter(pk=item.pk).update(text="Intitulé réécrit", outside_scope=True)
    CatalogHeading.objects.filter(pk=item.heading_id).update(title="Rubrique renommée")
    Establishment.objects.filter(pk=school.establishment.pk).update(name="Lycée renommé")

    after = api.get(f"/api/v1/letters/{letter.pk}/").json()
    assert after == before
    assert _pdf_text(letter) == pdf_before
    assert "Sophia" not in pdf_before
    assert "Rubrique renommée" not in pdf_before
    fresh = MissionLetter.objects.get(pk=letter.pk)
    assert current_version(fresh).content_sha256 == before["snapshot_sha256"]
    assert full_snapshot(fresh)["content_sha256"] in signed
    assert verify_chains() == []
    assert verify_versions() == []
    call_command("verify_audit", verbosity=0)

    # The page reads the version too.
    client = Client()
    client.force_login(school.principal)
    page = client.get(f"/lettres/{letter.pk}/").content.decode()
    assert signed_as in page
    assert "Durand-Vidal" not in page


def test_a_draft_is_rewritten_and_open_concertation_freezes_it_with_the_names_of_then():
    school = make_school("Brouillon")
    letter = make_letter(school)
    assert list(LetterVersion.objects.filter(letter=letter).values_list("number")) == [(1,)]
    update_person(school.referent2, {"last_name": "Nouveau-Nom"})
    fire_transition(letter_id=letter.pk, name="open_concertation", user=school.principal)
    version = current_version(MissionLetter.objects.get(pk=letter.pk))
    assert version.number == 1
    names = [r["name"] for r in version.content["referents"]]
    assert school.referent2.first_name + " Nouveau-Nom" in names
    update_person(school.referent2, {"last_name": "Encore-Autre"})
    fire_transition(letter_id=letter.pk, name="agree", user=school.referent1, payload=shown(letter))
    assert current_version(MissionLetter.objects.get(pk=letter.pk)) == version
    assert LetterVersion.objects.get(pk=version.pk).content == version.content


# Agreements name their version ------------------------------------------------------------


def test_an_agreement_on_a_version_changed_since_is_refused_over_the_api():
    school = make_school("Accord")
    letter = advance(make_letter(school), school, "concertation")
    referent, principal = _api(school.referent1), _api(school.principal)
    shown_v1 = referent.get(f"/api/v1/letters/{letter.pk}/").json()["snapshot_sha256"]
    edited = principal.patch(
        f"/api/v1/letters/{letter.pk}/",
        {"version": 1, **letter_content(school, imp1="625.00")},
        format="json",
    )
    assert edited.status_code == 200
    assert edited.json()["version"] == 2

    refused = referent.post(
        f"/api/v1/letters/{letter.pk}/transitions/agree/",
        {"snapshot_sha256": shown_v1},
        format="json",
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "snapshot_mismatch"
    assert LetterReferent.objects.get(letter=letter, user=school.referent1).agreed_version is None
    # The other référent agrees on version 2: the letter still cannot go to the council.
    fire_transition(letter_id=letter.pk, name="agree", user=school.referent2, payload=shown(letter))
    with pytest.raises(ConditionsUnmet) as refusal:
        fire_transition(
            letter_id=letter.pk, name="submit_to_pedagogical_council", user=school.principal
        )
    assert {u.code for u in refusal.value.unmet} == {"agreement_missing"}


def test_an_agreement_from_a_stale_page_shows_the_referent_what_changed():
    school = make_school("Page")
    letter = advance(make_letter(school), school, "concertation")
    referent = Client()
    referent.force_login(school.referent1)
    stale = referent.get(f"/lettres/{letter.pk}/").content.decode()
    agreement = dict(form_fields(stale, "action-agree"))
    assert agreement["snapshot_sha256"] == [shown(letter)["snapshot_sha256"]]
    update_letter(
        letter_id=letter.pk,
        user=school.principal,
        changes=letter_content(school, imp1="625.00"),
    )

    response = referent.post(f"/lettres/{letter.pk}/actions/agree/", agreement, follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0].endswith(f"/lettres/{letter.pk}/?depuis=1")
    assert "La lettre a changé depuis qu&#x27;elle vous a été présentée" in page
    assert "Ce qui a changé depuis la version 1" in page
    assert f"IMP de {format_euros(Decimal('1250'))}" in page
    assert f"IMP de {format_euros(Decimal('625'))}" in page
    assert LetterReferent.objects.get(letter=letter, user=school.referent1).agreed_version is None

    # Agreeing from the page as it now stands goes through, on version 2.
    agreement = dict(form_fields(page, "action-agree"))
    referent.post(f"/lettres/{letter.pk}/actions/agree/", agreement)
    assert LetterReferent.objects.get(letter=letter, user=school.referent1).agreed_version == 2


def test_a_referent_asked_to_agree_again_sees_what_changed_since_their_agreement():
    school = make_school("Encore")
    letter = advance(make_letter(school), school, "concertation")
    fire_transition(letter_id=letter.pk, name="agree", user=school.referent1, payload=shown(letter))
    content = letter_content(school)
    content["missions"] = content["missions"][:2]
    update_letter(letter_id=letter.pk, user=school.principal, changes=content)
    client = Client()
    client.force_login(school.referent1)
    page = client.get(f"/lettres/{letter.pk}/").content.decode()
    assert "Ce qui a changé depuis la version 1" in page
    assert "Animer le club robotique" in page.split("Ce qui a changé")[1].split("</section>")[0]
    assert "Votre accord sur la version 1 ne vaut plus" in page


# Versions and their diff --------------------------------------------------------------------


def test_an_edit_in_concertation_makes_version_2_and_version_1_reads_as_it_was():
    school = make_school("Diff")
    letter = advance(make_letter(school), school, "concertation")
    api = _api(school.principal)
    v1 = api.get(f"/api/v1/letters/{letter.pk}/versions/1/").json()
    content = letter_content(school, imp1="625.00")
    removed = content["missions"].pop()  # « Animer le club robotique »
    update_letter(letter_id=letter.pk, user=school.principal, changes=content)

    listed = api.get(f"/api/v1/letters/{letter.pk}/versions/").json()
    assert [v["version"] for v in listed] == [1, 2]
    assert [v["created_by"] for v in listed] == [school.principal.username] * 2
    assert listed[0]["content_sha256"] == v1["content_sha256"]
    assert api.get(f"/api/v1/letters/{letter.pk}/versions/1/").json() == v1
    assert sha256_hex(canonical_json(v1["content"])) == v1["content_sha256"]
    v2 = api.get(f"/api/v1/letters/{letter.pk}/versions/2/").json()
    assert (
        v2["content_sha256"] == api.get(f"/api/v1/letters/{letter.pk}/").json()["snapshot_sha256"]
    )

    diff = api.get(f"/api/v1/letters/{letter.pk}/versions/2/diff/").json()
    assert (diff["from"], diff["to"]) == (1, 2)
    name = school.referent1.get_full_name()
    assert {
        "section": "missions",
        "kind": "removed",
        "label": removed["text"],
        "before": f"{removed['text']} (Mission secondaire) — confiée à "
        f"{school.referent2.get_full_name()}",
        "after": None,
    } in diff["changes"]
    assert {
        "section": "referents",
        "kind": "changed",
        "label": name,
        "before": f"{name} — IMP de {format_euros(Decimal('1250'))} (Accompagnement des équipes)",
        "after": f"{name} — IMP de {format_euros(Decimal('625'))} (Accompagnement des équipes)",
    } in diff["changes"]
    assert len(diff["changes"]) == 2
    missing = api.get(f"/api/v1/letters/{letter.pk}/versions/1/diff/")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    assert api.get(f"/api/v1/letters/{letter.pk}/versions/9/").status_code == 404
    # Invisible to whoever may not see the letter.
    other = make_school("Autre")
    assert _api(other.principal).get(f"/api/v1/letters/{letter.pk}/versions/").status_code == 404


def test_a_new_version_is_only_written_by_a_real_change_in_concertation():
    school = make_school("Same")
    letter = advance(make_letter(school), school, "concertation")
    update_letter(letter_id=letter.pk, user=school.principal, changes=letter_content(school))
    assert LetterVersion.objects.filter(letter=letter).count() == 1
    assert version_of(letter, 2) is None


# The migration ------------------------------------------------------------------------------


def test_the_migration_gives_existing_letters_the_versions_their_signatures_were_given_on():
    """The data migration, run over letters whose versions are gone: each gets back the
    content its history recorded, and every signature matches its version's hash, even
    where a référent was renamed after signing (the live rows say otherwise)."""
    school = make_school("Migre")
    in_force = advance(make_letter(school), school, "in_force")
    other = make_school("MigreTer")
    reopened = advance(make_letter(other), other, "signature")
    fire_transition(
        letter_id=reopened.pk,
        name="reopen_concertation",
        user=other.principal,
        payload={"reason": "Revoir la répartition"},
    )
    draft = make_letter(make_school("MigreBis"))
    kept = {
        (v.letter_id, v.number): (v.content, v.content_sha256) for v in LetterVersion.objects.all()
    }
    update_person(school.referent1, {"last_name": "Après-Signature"})
    LetterVersion.objects.all().delete()

    migration = importlib.import_module("workflow.migrations.0007_versions_from_history")
    migration.versions_from_history(django_apps, None)

    found = {
        (v.letter_id, v.number): (v.content, v.content_sha256) for v in LetterVersion.objects.all()
    }
    for letter in (in_force, reopened):
        assert {k: v for k, v in found.items() if k[0] == letter.pk} == {
            k: v for k, v in kept.items() if k[0] == letter.pk
        }
    for signature in Signature.objects.all():
        assert signature.snapshot_sha256 == found[(signature.letter_id, signature.version)][1]
    # A draft's working version is read from its rows.
    assert found[(draft.pk, 1)] == kept[(draft.pk, 1)]


# The canonical form -----------------------------------------------------------------------


def test_the_canonical_form_of_a_content_is_fixed():
    """A letter built here, without the database: its canonical JSON and its sha256,
    written out. Any change to the canonical form (a key, an order, a number's format,
    an escape) fails here, and would break every hash already signed."""
    letter = MissionLetter(
        pk=12,
        establishment=Establishment(uai="0210015C", name="Lycée Carnot"),
        school_year=SchoolYear(code="2026-2027"),
        version=2,
        period_kind="school_year",
        period_start=dt.date(2026, 9, 1),
        period_end=dt.date(2027, 8, 31),
        means=["phone", "office"],
        means_other="Clé du local serveur",
        follow_up="annual_review",
        qualification="PIX niveau 5",
        dane_training="Parcours « référents » (3 ans)",
    )
    rows = LetterContent(
        referents=(
            ReferentRow(
                1,
                "referent1",
                "Sophie Durand",
                "technologie",
                "imp",
                Decimal("1250"),
                None,
                "Équipes",
                2,
            ),
            ReferentRow(
                2,
                "referent2",
                "Karim Benali",
                "mathématiques",
                "decharge",
                None,
                Decimal("1.5"),
                "",
                None,
            ),
        ),
        missions=(
            MissionRow(
                7,
                3,
                "pix-import",
                "PIX",
                False,
                "",
                "Importer la base SIECLE",
                "principal",
                ("referent1",),
            ),
            MissionRow(8, None, None, None, False, "", "Club robotique", "secondary", ()),
        ),
        indicators=(IndicatorRow(4, "Sessions de prise en main", "6 par an"),),
    )
    written = canonical_json(content_snapshot(letter, rows))
    assert written == (
        '{"dane_training":"Parcours « référents » (3 ans)","establishment":{"name":"Lycée '
        'Carnot","uai":"0210015C"},"follow_up":"annual_review","indicators":[{"target":"6 par '
        'an","text":"Sessions de prise en main"}],"letter":12,"means":["office","phone"],'
        '"means_other":"Clé du local serveur","missions":[{"catalog_item":"pix-import",'
        '"heading":"PIX","outside_scope":false,"priority":"principal","referents":'
        '["referent1"],"text":"Importer la base SIECLE"},{"catalog_item":null,"heading":null,'
        '"outside_scope":false,"priority":"secondary","referents":[],"text":"Club robotique"}],'
        '"period":{"end":"2027-08-31","kind":"school_year","start":"2026-09-01"},'
        '"qualification":"PIX niveau 5","referents":[{"decharge_hours":null,"discipline":'
        '"technologie","imp_amount":"1250.00","mode":"imp","name":"Sophie Durand","share":'
        '"Équipes","username":"referent1"},{"decharge_hours":"1.50","discipline":'
        '"mathématiques","imp_amount":null,"mode":"decharge","name":"Karim Benali","share":"",'
        '"username":"referent2"}],"school_year":"2026-2027","version":2}'
    )
    assert sha256_hex(written) == (
        "c68894f5907af99336a19282fec02aa78a99c4449393c5a75dc2f5ec624079a8"
    )


def test_verify_audit_finds_a_version_rewritten_in_the_database():
    school = make_school("Falsifie")
    letter = advance(make_letter(school), school, "in_force")
    version = current_version(letter)
    forged = {**version.content, "qualification": "Réécrit après signature"}
    LetterVersion.objects.filter(pk=version.pk).update(content=forged)
    assert [p.reason for p in verify_versions()] == [
        "le contenu ne correspond plus à son empreinte"
    ]
    LetterVersion.objects.filter(pk=version.pk).update(
        content=forged, content_sha256=sha256_hex(canonical_json(forged))
    )
    assert {p.reason for p in verify_versions()} == {
        "une signature ne porte pas l'empreinte de sa version"
    }
    with pytest.raises(CommandError, match="Première version altérée"):
        call_command("verify_audit", verbosity=0)


def test_the_mail_announcing_a_new_version_lists_what_changed():
    from notifications.models import Email
    from notifications.services import process_notifications

    school = make_school("Courriel")
    letter = advance(make_letter(school), school, "concertation")
    content = letter_content(school, imp1="625.00")
    content["missions"].pop()
    update_letter(letter_id=letter.pk, user=school.principal, changes=content)
    process_notifications()
    mail = Email.objects.get(topic="content_changed", recipient=school.referent2)
    assert "Ce qui a changé :" in mail.body_text
    assert "- Animer le club robotique (retiré)" in mail.body_text
    assert f"après : {school.referent1.get_full_name()} — IMP de" in mail.body_text
    assert "<strong>Animer le club robotique</strong> (retiré)" in mail.body_html
