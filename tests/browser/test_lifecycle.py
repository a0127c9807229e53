"""The whole life of a letter, clicked through in Chromium by the people who do each
step (DESIGN §1, §4, §8): the principal, both référents, the two councils' secretaries,
then the DAN on the académie's dashboard. Every page visited is photographed into
test-artifacts/ (``lifecycle-NN-….png``) and checked with axe-core; after each step the
database and what the person sees both say the step happened."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from governance.demo import CARNOT_UAI
from governance.models import CatalogItem, CouncilKind, Meeting, SchoolYear, User
from notifications.services import open_due_reports
from tests.browser.helpers import check, sign_in, sign_out
from workflow.audit.snapshot import content_sha256
from workflow.models import (
    AgendaItem,
    AuditEvent,
    Comment,
    LetterReferent,
    LetterState,
    MissionLetter,
    Opinion,
    Signature,
    YearEndReport,
)

pytestmark = pytest.mark.django_db(transaction=True)

MISSIONS = {
    "pix": "Animer la campagne de certification PIX des classes de terminale",
    "ent": "Coordonner le prêt des tablettes du CDI",
}
INDICATORS = {
    "sessions": "Sessions de prise en main proposées aux équipes",
    "pix": "Élèves de terminale certifiés PIX",
}


class Photographer:
    """Numbers the pages as they are visited: lifecycle-01-…, lifecycle-02-…"""

    def __init__(self, prefix: str) -> None:
        self.prefix, self.count = prefix, 0

    def __call__(self, page: Any, name: str) -> None:
        self.count += 1
        check(page, f"{self.prefix}-{self.count:02d}-{name}")


def _school_year_without_a_carnot_letter() -> SchoolYear:
    """The demo has Carnot letters for this year and the next: the one after is free."""
    latest = SchoolYear.objects.order_by("-starts_on").first()
    assert latest is not None
    first = latest.starts_on.year + 1
    year, _created = SchoolYear.objects.get_or_create(
        code=f"{first}-{first + 1}",
        defaults={"starts_on": dt.date(first, 9, 1), "ends_on": dt.date(first + 1, 8, 31)},
    )
    assert not MissionLetter.objects.filter(
        establishment__uai=CARNOT_UAI, school_year=year
    ).exists()
    return year


def _tick(page: Any, control_id: str) -> None:
    """Tick a DSFR checkbox or radio as a person does: on its label (the input itself
    is drawn under it)."""
    page.locator(f"label[for='{control_id}']").click()
    expect(page.locator(f"#{control_id}")).to_be_checked()


def _principal_drafts_the_letter(page: Any, school_year: SchoolYear) -> MissionLetter:
    """The principal begins the letter from the list and writes it in the editor: two
    référents (IMP and décharge) with the envelope checked live, a mission from the
    catalogue and two of her own, indicators, means and follow-up. A first save with an
    impossible décharge is refused and comes back as typed."""
    menu = page.get_by_role("navigation", name="Menu principal")
    menu.get_by_role("link", name="Lettres de mission").click()
    page.get_by_role("link", name="Nouvelle lettre").click()
    check(page, "lifecycle-00a-nouvelle-lettre")
    page.get_by_label("Année scolaire").select_option(value=str(school_year.pk))
    page.get_by_role("button", name="Créer le brouillon").click()
    page.wait_for_url("**/modifier/")
    expect(page.get_by_text("Brouillon créé : rédigez la lettre.")).to_be_visible()
    letter = MissionLetter.objects.get(establishment__uai=CARNOT_UAI, school_year=school_year)
    sophie, karim = (User.objects.get(username=name) for name in ("referent1", "referent2"))

    _tick(page, f"referent-{sophie.pk}")
    page.locator(f"#referent-{sophie.pk}-imp").select_option("1250")
    page.locator(f"#referent-{sophie.pk}-share").fill("Accompagnement pédagogique et PIX")
    live = page.locator("#enveloppe-calcul")
    live.get_by_text("Cette lettre : 1\u202f250,00").wait_for()  # htmx, nothing saved yet
    assert live.get_by_text("est inférieur à l'enveloppe minimale").count() == 0
    _tick(page, f"referent-{karim.pk}")
    _tick(page, f"referent-{karim.pk}-mode-decharge")
    page.locator(f"#referent-{karim.pk}-hours").fill("30")
    page.locator(f"#referent-{karim.pk}-share").fill("ENT et équipements")

    item = CatalogItem.objects.get(code="accompagner-equipe-impulser-pratiques")
    page.locator("details", has=page.locator(f"#item-{item.pk}")).locator("summary").click()
    _tick(page, f"item-{item.pk}")
    page.locator(f"#item-{item.pk}-priority").select_option("principal")
    _tick(page, f"item-{item.pk}-ref-{sophie.pk}")
    _tick(page, f"item-{item.pk}-ref-{karim.pk}")
    for n, (text, priority, carrier) in enumerate(
        [(MISSIONS["pix"], "principal", sophie), (MISSIONS["ent"], "secondary", karim)]
    ):
        page.get_by_role("textbox", name=f"Mission libre n° {n + 1}").fill(text)
        page.locator(f"#free-{n}-priority").select_option(priority)
        _tick(page, f"free-{n}-ref-{carrier.pk}")
    for n, (text, target) in enumerate(
        [(INDICATORS["sessions"], "6 par an"), (INDICATORS["pix"], "90 %")]
    ):
        page.get_by_role("textbox", name=f"Indicateur n° {n + 1}", exact=True).fill(text)
        page.locator(f"#indicator-{n}-target").fill(target)
    _tick(page, "means-office")
    _tick(page, "means-phone")
    _tick(page, "follow_up-annual_review")
    page.get_by_label("Qualification du référent").fill("Formation DANE niveau 2")
    page.get_by_label("Formation proposée par la DANE").fill(
        "Parcours référents numériques de la DANE"
    )

    # 30 h of décharge a week is more than a whole service: refused, nothing lost.
    page.get_by_role("button", name="Enregistrer la lettre").click()
    errors = page.get_by_role("alert").filter(has_text="La lettre n'a pas été enregistrée")
    expect(errors.get_by_text("Référent Karim Benali : Une décharge de 30")).to_be_visible()
    assert page.get_by_role("textbox", name="Mission libre n° 1").input_value() == MISSIONS["pix"]
    expect(page.locator(f"#item-{item.pk}")).to_be_checked()
    assert not letter.referents.exists()
    check(page, "lifecycle-00b-editeur-refus")

    page.locator(f"#referent-{karim.pk}-hours").fill("1")
    page.keyboard.press("Tab")  # leaving the field recomputes the envelope
    live.get_by_text("Cette lettre : 2\u202f500,00").wait_for()
    expect(live.get_by_text("Dans l'enveloppe.")).to_be_visible()
    check(page, "lifecycle-00c-editeur")
    page.get_by_role("button", name="Enregistrer la lettre").click()
    page.wait_for_url(f"**/lettres/{letter.pk}/")
    expect(page.get_by_text("Lettre enregistrée.")).to_be_visible()
    letter.refresh_from_db()
    recognition = {
        r.user.username: (r.mode, r.imp_amount, r.decharge_hours) for r in letter.referents.all()
    }
    assert recognition == {
        "referent1": ("imp", Decimal("1250.00"), None),
        "referent2": ("decharge", None, Decimal("1.00")),
    }
    assert [m.text for m in letter.missions.order_by("order")] == [
        item.text,
        MISSIONS["pix"],
        MISSIONS["ent"],
    ]
    assert letter.indicators.count() == 2
    assert letter.means == ["office", "phone"]
    page.get_by_role("link", name="À faire").click()
    return letter


def _meeting_label(meeting: Meeting) -> str:
    """How the forms name a meeting in their « Séance » list."""
    when = timezone.localtime(meeting.starts_at).strftime("%d/%m/%Y %H:%M")
    return f"{when} — {meeting.get_convocation_display()}"


def _last_held(kind: str) -> Meeting:
    return Meeting.objects.filter(
        council__establishment__uai=CARNOT_UAI, council__kind=kind, starts_at__lt=timezone.now()
    ).latest("starts_at")


def _next_to_come(kind: str) -> Meeting:
    return Meeting.objects.filter(
        council__establishment__uai=CARNOT_UAI, council__kind=kind, starts_at__gt=timezone.now()
    ).earliest("starts_at")


def _state(letter: MissionLetter) -> str:
    return MissionLetter.objects.get(pk=letter.pk).state


def _done(page: Any, says: str) -> None:
    """The message every transition ends with: what happened and what comes next,
    focused so that a screen reader reads it."""
    message = page.get_by_role("status").filter(has_text=says)
    expect(message).to_be_visible()
    expect(message).to_be_focused()


def _stepper(page: Any, step: int, title: str) -> None:
    stepper = page.locator(".fr-stepper__title")
    assert f"Étape {step} sur 9" in stepper.inner_text()
    assert title in stepper.inner_text()
    # Its bar is drawn: the DSFR's styles stop at 8 steps, base.html adds the 9th.
    bar = page.locator(".fr-stepper__steps")
    assert bar.evaluate("e => getComputedStyle(e).getPropertyValue('--steps').trim()") == "9"


def _choose(scope: Any, label: str) -> None:
    """A DSFR radio button, chosen as a person does: on its label (the input itself is
    drawn under it)."""
    scope.get_by_text(label, exact=True).click()
    assert scope.get_by_label(label, exact=True).is_checked()


def _open_from_todo(page: Any, letter_title: str, waiting: str) -> None:
    """From « À faire », the row of the letter that waits for this person."""
    row = page.locator("table tbody tr", has_text=letter_title)
    assert waiting in row.inner_text()
    row.get_by_role("link", name=letter_title).click()
    page.wait_for_url("**/lettres/*/")


def test_a_letter_from_draft_to_archive_then_on_the_dashboard(browser_page: Any) -> None:
    page = browser_page
    shot = Photographer("lifecycle")
    call_command("load_demo")
    year = _school_year_without_a_carnot_letter()
    title = f"Lycée Carnot — {year.code}"

    # 1. The principal drafts the letter, then opens the concertation.
    sign_in(page, "principal")
    letter = _principal_drafts_the_letter(page, year)
    letter_url = f"{page.base_url}/lettres/{letter.pk}/"
    assert _state(letter) == LetterState.DRAFT
    page.reload()
    shot(page, "a-faire-principal")
    _open_from_todo(page, title, "Ouvrir la concertation")
    _stepper(page, 1, "Brouillon")
    expect(page.get_by_text(MISSIONS["pix"])).to_be_visible()
    shot(page, "brouillon-principal")
    page.get_by_role("button", name="Ouvrir la concertation").click()
    _done(page, "Concertation ouverte sur la version 1")
    _stepper(page, 2, "Concertation avec le(s) référent(s)")
    assert _state(letter) == LetterState.CONCERTATION
    assert page.get_by_role("button", name="Soumettre au conseil pédagogique").is_disabled()
    shot(page, "concertation-ouverte")
    sign_out(page)

    # 2. Each référent reads the letter; one asks a question; both agree.
    sign_in(page, "referent1")
    shot(page, "a-faire-referent1")
    _open_from_todo(page, title, "Donner mon accord")
    for text in [*MISSIONS.values(), *INDICATORS.values()]:
        expect(page.get_by_text(text).first).to_be_visible()
    page.get_by_label("Votre message").fill(
        "La campagne PIX se tiendra en mars : je propose la cible de 90 % telle quelle."
    )
    page.get_by_role("button", name="Publier").click()
    expect(page.get_by_role("status").filter(has_text="Message publié.")).to_be_visible()
    expect(page.get_by_text("La campagne PIX se tiendra en mars")).to_be_visible()
    assert Comment.objects.filter(letter=letter, author__username="referent1").count() == 1
    page.get_by_role("button", name="Donner mon accord").click()
    _done(page, "Accord enregistré sur la version 1. Le chef d'établissement en est informé.")
    assert LetterReferent.objects.get(letter=letter, user__username="referent1").agreed_version
    # The agreement is given: the action is done, so it is no longer offered.
    expect(page.get_by_role("button", name="Donner mon accord")).to_have_count(0)
    assert page.get_by_role("table", name="Référents").get_by_text("donné").count() == 1
    shot(page, "accord-referent1")
    page.get_by_role("link", name="À faire").click()
    assert page.locator("table tbody tr", has_text=title).count() == 0  # nothing left to do
    sign_out(page)

    sign_in(page, "referent2")
    shot(page, "a-faire-referent2")
    _open_from_todo(page, title, "Donner mon accord")
    expect(page.get_by_text("La campagne PIX se tiendra en mars")).to_be_visible()
    page.get_by_role("button", name="Donner mon accord").click()
    _done(page, "Accord enregistré sur la version 1. Le chef d'établissement en est informé.")
    assert LetterReferent.objects.get(letter=letter, user__username="referent2").agreed_version
    assert _state(letter) == LetterState.CONCERTATION
    shot(page, "accord-referent2")
    sign_out(page)

    # 3. The principal submits the letter to the conseil pédagogique, on its next
    # meeting (the form offers the meetings to come, never a past one).
    cp_meeting = _next_to_come(CouncilKind.PEDAGOGICAL)
    sign_in(page, "principal")
    shot(page, "a-faire-principal")
    _open_from_todo(page, title, "Soumettre au conseil pédagogique")
    referents = page.get_by_role("table", name="Référents")
    assert referents.get_by_text("donné").count() == 2
    page.get_by_label("Séance").select_option(label=_meeting_label(cp_meeting))
    shot(page, "soumission-principal")
    page.get_by_role("button", name="Soumettre au conseil pédagogique").click()
    _done(page, "conseil pédagogique")
    _stepper(page, 3, "Avis du conseil pédagogique")
    assert _state(letter) == LetterState.PEDAGOGICAL_COUNCIL
    assert AgendaItem.objects.filter(letter=letter, meeting=cp_meeting).exists()
    shot(page, "soumise-au-cp")
    sign_out(page)
    # The meeting is held (its date moved to an hour ago, rather than the clock).
    Meeting.objects.filter(pk=cp_meeting.pk).update(
        starts_at=timezone.now() - dt.timedelta(hours=1)
    )
    cp_meeting.refresh_from_db()

    # 4. The CP's secretary records the opinion on the meeting's agenda page.
    sign_in(page, "secretaire-cp")
    shot(page, "a-faire-secretaire-cp")
    page.get_by_role("link", name="Séances des conseils").click()
    shot(page, "seances-secretaire-cp")
    row = page.locator("table tbody tr", has_text=cp_meeting.starts_at.strftime("%d/%m/%Y")).filter(
        has_text="Conseil pédagogique"
    )
    assert title in row.inner_text()  # the letter is on this meeting's agenda
    row.get_by_role("link", name="Saisir les avis").click()
    page.wait_for_url(f"**/seances/{cp_meeting.pk}/avis/")
    entry = page.get_by_role("group", name=title)
    _choose(entry, "Réservé")
    entry.get_by_label("Observations").fill("Préciser le partage des missions entre référents.")
    shot(page, "avis-seance-cp")
    page.get_by_role("button", name="Enregistrer les avis").click()
    page.wait_for_url("**/seances/")
    expect(
        page.get_by_role("status").filter(has_text="Avis enregistré pour 1 lettre.")
    ).to_be_visible()
    # The opinion given, the letter goes on to the CA by itself: no click of the principal.
    assert _state(letter) == LetterState.BOARD
    opinion = Opinion.objects.get(letter=letter, council=CouncilKind.PEDAGOGICAL)
    assert (opinion.meeting_id, opinion.opinion) == (cp_meeting.pk, "reserve")
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Lettres de mission"
    ).click()
    page.get_by_label("Année scolaire").fill(year.code)
    page.get_by_role("button", name="Filtrer").click()
    listed = page.locator("table tbody tr", has_text=year.code)
    assert "Avis du conseil d'administration" in listed.inner_text()
    shot(page, "liste-secretaire-cp")
    listed.get_by_role("link").click()
    page.wait_for_url(letter_url)
    _stepper(page, 4, "Avis du conseil d'administration")
    shot(page, "lettre-au-ca")
    sign_out(page)

    # 5. The CA's secretary records the CA's opinion, unfavourable, and its votes on the
    # letter's page.
    ca_meeting = _last_held(CouncilKind.BOARD)
    sign_in(page, "secretaire-ca")
    shot(page, "a-faire-secretaire-ca")
    _open_from_todo(page, title, "Saisir l'avis du conseil d'administration")
    page.get_by_label("Séance").select_option(label=_meeting_label(ca_meeting))
    opinion_form = page.locator("#action-record_board_opinion")
    _choose(opinion_form, "Défavorable")
    page.get_by_label("Présents").fill("24")
    page.get_by_label("Pour", exact=True).fill("6")
    page.get_by_label("Contre").fill("15")
    page.get_by_label("Abstentions").fill("2")
    page.get_by_label("Ne prennent pas part").fill("1")
    shot(page, "avis-ca-lettre")
    page.get_by_role("button", name="Saisir l'avis du conseil d'administration").click()
    _done(page, "conseil d'administration")
    _stepper(page, 5, "En signature")
    assert _state(letter) == LetterState.SIGNATURE
    board = Opinion.objects.get(letter=letter, council=CouncilKind.BOARD)
    assert board.opinion == "defavorable"
    assert (board.votes_for, board.votes_against, board.abstentions, board.not_voting) == (
        6,
        15,
        2,
        1,
    )
    assert (board.members_present, board.quorum_met) == (24, True)
    sign_out(page)

    # 6. The principal and both référents sign the hash they are shown. Before she signs,
    # the principal reads both councils' opinions and is told, next to « Signer », that
    # they were reserved and unfavourable, with the way back offered.
    for number, signer in enumerate(("principal", "referent1", "referent2"), start=1):
        sign_in(page, signer)
        shot(page, f"a-faire-{signer}")
        _open_from_todo(page, title, "Signer")
        if signer == "principal":
            opinions = page.get_by_role("region", name="Avis des conseils")
            expect(opinions.get_by_text("Réservé")).to_be_visible()
            expect(opinions.get_by_text("Préciser le partage des missions")).to_be_visible()
            expect(opinions.get_by_text("Défavorable")).to_be_visible()
            expect(opinions.get_by_text("6 pour, 15 contre, 2 abstentions")).to_be_visible()
            expect(opinions.get_by_text("24 membres présents")).to_be_visible()
            warning = page.locator("#avis-a-peser")
            expect(warning.get_by_text("un conseil a émis des réserves")).to_be_visible()
            expect(warning.get_by_text("« Rouvrir la concertation »")).to_be_visible()
            expect(page.get_by_role("button", name="Rouvrir la concertation")).to_be_visible()
            shot(page, "avant-signature-principal")
        shown = page.locator("code").inner_text().strip()
        assert shown == content_sha256(MissionLetter.objects.get(pk=letter.pk))
        # The PDF they sign is framed above the hash (the only response that may be).
        preview = page.get_by_title("Aperçu PDF de la lettre à signer")
        answer = page.request.get(page.base_url + preview.get_attribute("src"))
        assert answer.headers["content-type"] == "application/pdf"
        assert answer.headers["x-frame-options"] == "SAMEORIGIN"
        preview.element_handle().content_frame().wait_for_load_state()
        shot(page, f"signature-{signer}")
        page.get_by_role("button", name="Signer", exact=True).click()
        _done(page, "Signature enregistrée sur la version 1.")
        assert Signature.objects.filter(letter=letter).count() == number
        assert Signature.objects.get(letter=letter, signer__username=signer).snapshot_sha256 == (
            shown
        )
        if signer != "referent2":
            assert _state(letter) == LetterState.SIGNATURE
            # Signed: the action is gone, the signature is listed with its quality.
            expect(page.get_by_role("button", name="Signer", exact=True)).to_have_count(0)
            signatures = page.get_by_role("region", name="Signatures de la version 1")
            expect(signatures.get_by_text("signé le")).to_have_count(number)
            expect(signatures.get_by_text("Reste à signer")).to_be_visible()
        sign_out(page)
    assert _state(letter) == LetterState.IN_FORCE

    # 7. The report window opens. In the application the beat runs open_due_reports
    # every day and it opens when the académie's date (1 June) comes; here the clock is
    # moved to that day for the service call only, instead of waiting until June.
    opens_on = letter.establishment.academy.report_window_opens_on(year)
    with time_machine.travel(
        dt.datetime.combine(opens_on, dt.time(6, 30), tzinfo=ZoneInfo("Europe/Paris")),
        tick=False,
    ):
        assert open_due_reports() >= 1  # the demo's letter of this year opens too
    assert _state(letter) == LetterState.REPORT_DUE

    # 8. The référents write the year-end report, pre-filled from the letter; one of
    # them hands it in.
    sign_in(page, "referent1")
    shot(page, "a-faire-referent1")
    _open_from_todo(page, title, "Remettre le compte rendu")
    _stepper(page, 7, "Compte rendu attendu")
    shot(page, "compte-rendu-attendu")
    page.get_by_role("link", name="Le compte rendu de fin d'année").click()
    page.wait_for_url("**/compte-rendu/")
    # The form; below it, « Remettre le compte rendu » lists what is still to fill in.
    report_form = page.locator("#compte-rendu")
    for text in MISSIONS.values():  # one block per mission of the letter …
        expect(report_form.get_by_text(text)).to_be_visible()
    for text in INDICATORS.values():  # … and one field per indicator, with its target
        expect(page.get_by_label(text)).to_be_visible()
    expect(page.get_by_text("cible : 90 %")).to_be_visible()
    statuses = page.get_by_label("Réalisation")
    assert statuses.count() == 3
    statuses.nth(0).select_option(label="Réalisée")
    statuses.nth(1).select_option(label="Partiellement réalisée")
    page.get_by_label("Commentaire").nth(1).fill("82 % de certifiés : deux classes en retard.")
    shot(page, "compte-rendu-referent1")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status").filter(has_text="Compte rendu enregistré.")).to_be_visible()
    sign_out(page)

    sign_in(page, "referent2")
    shot(page, "a-faire-referent2")
    _open_from_todo(page, title, "Remettre le compte rendu")
    page.get_by_role("link", name="Le compte rendu de fin d'année").click()
    page.wait_for_url("**/compte-rendu/")
    # What referent1 wrote is there; referent2 completes the rest.
    assert page.get_by_label("Réalisation").nth(0).input_value() == "done"
    page.get_by_label("Réalisation").nth(2).select_option(label="Réalisée")
    page.get_by_label(INDICATORS["sessions"]).fill("7 sessions")
    page.get_by_label(INDICATORS["pix"]).fill("82 %")
    page.get_by_label("Besoins de formation").fill("Administration de l'ENT (niveau 2)")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status").filter(has_text="Compte rendu enregistré.")).to_be_visible()
    shot(page, "compte-rendu-referent2")
    page.get_by_role("link", name=title).click()  # the breadcrumb, back to the letter
    page.get_by_role("button", name="Remettre le compte rendu").click()
    _done(page, "Compte rendu remis.")
    _stepper(page, 8, "Compte rendu remis")
    assert _state(letter) == LetterState.REPORT_SUBMITTED
    assert YearEndReport.objects.get(letter=letter).submitted_by == User.objects.get(
        username="referent2"
    )
    shot(page, "compte-rendu-remis")
    sign_out(page)

    # 9. The principal reads the report and acknowledges it: the letter is closed and
    # archived.
    sign_in(page, "principal")
    shot(page, "a-faire-principal")
    _open_from_todo(page, title, "Accuser réception du compte rendu")
    page.get_by_role("link", name="Le compte rendu de fin d'année").click()
    page.wait_for_url("**/compte-rendu/")
    # She reads it as text, not as greyed fields, and acknowledges it there.
    indicators = page.get_by_role("region", name="Indicateurs")
    expect(indicators.get_by_text("82 %")).to_be_visible()
    assert page.locator("input:disabled, select:disabled, textarea:disabled").count() == 0
    shot(page, "compte-rendu-principal")
    page.get_by_role("button", name="Accuser réception du compte rendu").click()
    _done(page, "la lettre est close")
    assert page.url.endswith("/compte-rendu/")
    page.get_by_role("link", name=title).click()  # the breadcrumb, back to the letter
    _stepper(page, 9, "Clôturée et archivée")
    assert _state(letter) == LetterState.CLOSED
    expect(page.get_by_text("Aucune action ne vous revient à cette étape.")).to_be_visible()
    history = page.get_by_role("table", name="Étapes de la lettre")
    # create, open, 2 agreements, submit, 2 opinions, 3 signatures, open the report,
    # submit and acknowledge it: thirteen steps, each in the history.
    assert history.locator("tbody tr").count() == AuditEvent.objects.filter(letter=letter).count()
    assert history.get_by_text("Création de la lettre").is_visible()  # steps in words
    assert history.get_by_role("cell", name="Donner mon accord").count() == 2
    assert AuditEvent.objects.filter(letter=letter).count() == 13
    shot(page, "cloturee")
    sign_out(page)

    # 10. The DAN finds the school on the académie's dashboard, and its exports.
    sign_in(page, "dan")
    shot(page, "a-faire-dan")
    page.get_by_role("link", name="Tableau de bord", exact=True).click()
    page.get_by_label("Année scolaire").select_option(year.code)
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url(f"**/tableau-de-bord/?annee={year.code}")
    assert page.get_by_role(
        "heading", name=f"Tableau de bord — Académie de Dijon, {year.code}"
    ).is_visible()
    table = page.get_by_role("table", name="Établissements de l'académie")
    row = table.locator("tbody tr", has_text="0210015C")
    headers = table.locator("thead th .fr-cell__title").all_inner_texts()
    cells = dict(zip(headers[1:], row.locator("td").all_inner_texts(), strict=True))
    assert cells["État de la lettre"] == "Clôturée et archivée"
    assert cells["Enveloppe"] == "2\u202f500,00\u00a0€"
    assert cells["Compte rendu"].startswith("Remis le ")
    shot(page, "tableau-de-bord-dan")
    for link, kind, expected in [
        ("Exporter en CSV", "text/csv", b"0210015C"),
        ("Exporter en XLSX", "spreadsheetml", b"PK"),
    ]:
        href = page.get_by_role("link", name=link).get_attribute("href")
        assert href.endswith(f"?annee={year.code}")
        response = page.request.get(f"{page.base_url}{href}")
        assert response.status == 200, link
        assert kind in response.headers["content-type"]
        assert expected in response.body()
    with page.expect_download() as download:
        page.get_by_role("link", name="Exporter en CSV").click()
    assert download.value.suggested_filename.startswith("lettres-de-mission-")
    csv_row = next(
        line
        for line in Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
        if line.startswith("0210015C;")
    )
    assert csv_row.startswith("0210015C;Lycée Carnot;")
