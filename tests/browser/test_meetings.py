"""Meetings are real, clicked through in Chromium by the people concerned: the
principal sends the demo's renewal to the conseil pédagogique's next meeting; once it
has been held, its secretary records its opinion for that meeting and puts the letter
on the CA's next agenda; the CA has no quorum, so its secretary schedules the second
convocation from the letter and records the CA's opinion there. Every page visited is
checked with axe-core and photographed into test-artifacts/ (``seances-<width>-NN-…``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from governance.demo import CARNOT_UAI
from governance.models import CouncilKind, Meeting, User
from tests.browser.helpers import check, sign_in
from workflow.audit.versions import current_version
from workflow.lifecycle.engine import fire_transition
from workflow.models import AgendaItem, LetterState, MissionLetter, Opinion

pytestmark = pytest.mark.django_db(transaction=True)


def _label(meeting: Meeting) -> str:
    """How the forms name a meeting in their lists."""
    when = timezone.localtime(meeting.starts_at).strftime("%d/%m/%Y %H:%M")
    return f"{when} — {meeting.get_convocation_display()}"


def _carnot(kind: str) -> Any:
    return Meeting.objects.filter(council__establishment__uai=CARNOT_UAI, council__kind=kind)


def _held(meeting: Meeting, days: float) -> Meeting:
    """The meeting took place ``days`` ago: its date is moved, rather than the clock."""
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=timezone.now() - dt.timedelta(days=days))
    meeting.refresh_from_db()
    return meeting


def _state(letter: MissionLetter) -> str:
    return MissionLetter.objects.get(pk=letter.pk).state


def _to_meetings(page: Any) -> None:
    """The menu's « Séances des conseils », folded into « Menu » on a phone."""
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()
        page.locator("#modal-menu").get_by_role("link", name="Séances des conseils").click()
    else:
        page.get_by_role("navigation", name="Menu principal").get_by_role(
            "link", name="Séances des conseils"
        ).click()
    page.wait_for_url("**/seances/")


def sign_out(page: Any) -> None:
    """« Se déconnecter », in the « Menu » dialog on a phone."""
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()
        page.locator("#modal-menu").get_by_role("button", name="Se déconnecter").click()
    else:
        page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/connexion/")


def _choose(scope: Any, label: str) -> None:
    """A DSFR radio button, chosen on its label as a person does."""
    scope.get_by_text(label, exact=True).click()
    assert scope.get_by_label(label, exact=True).is_checked()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_opinions_are_those_of_the_meetings_the_letter_is_on(
    browser_page: Any, width: int
) -> None:
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    count = iter(range(1, 100))

    def shot(name: str) -> None:
        check(page, f"seances-{width}-{next(count):02d}-{name}")

    call_command("load_demo")
    letter = MissionLetter.objects.get(
        establishment__uai=CARNOT_UAI, state=LetterState.CONCERTATION
    )
    letter_url = f"{page.base_url}/lettres/{letter.pk}/"
    fire_transition(
        letter_id=letter.pk,
        name="agree",
        user=User.objects.get(username="referent2"),
        payload={"snapshot_sha256": current_version(letter).content_sha256},
    )
    cp_past = _carnot(CouncilKind.PEDAGOGICAL).filter(starts_at__lt=timezone.now()).get()
    cp_next, cp_later = (
        _carnot(CouncilKind.PEDAGOGICAL).filter(starts_at__gt=timezone.now()).order_by("starts_at")
    )
    ca_next = _carnot(CouncilKind.BOARD).filter(starts_at__gt=timezone.now()).earliest("starts_at")

    # 1. The principal sends the letter to the CP: the meetings to come, soonest first.
    sign_in(page, "principal")
    page.goto(letter_url)
    form = page.locator("#action-submit_to_pedagogical_council")
    options = form.get_by_role("combobox", name="Séance").locator("option").all_inner_texts()
    assert options == ["Pas encore fixée", _label(cp_next), _label(cp_later)]
    form.get_by_role("combobox", name="Séance").select_option(label=_label(cp_next))
    shot("soumission-seance-a-venir")
    form.get_by_role("button", name="Soumettre au conseil pédagogique").click()
    expect(page.get_by_role("status").filter(has_text="conseil pédagogique")).to_be_visible()
    assert AgendaItem.objects.filter(letter=letter, meeting=cp_next).exists()
    # Until the meeting is held, its opinion waits: none for last week's meeting.
    opinion = page.locator("#action-record_pedagogical_opinion")
    expect(page.get_by_text("qui n'a pas encore eu lieu")).to_be_visible()
    expect(
        opinion.get_by_role("button", name="Saisir l'avis du conseil pédagogique")
    ).to_be_disabled()
    shot("avis-en-attente-de-la-seance")
    _to_meetings(page)
    row = page.locator(
        "table tbody tr",
        has=page.get_by_role(
            "link", name=f"{letter.establishment.name} — {letter.school_year.code}"
        ),
    )
    expect(row).to_have_count(1)  # on one agenda only: its meeting's
    expect(row.get_by_text("Avis du conseil pédagogique")).to_be_visible()
    assert timezone.localtime(cp_next.starts_at).strftime("%d/%m/%Y") in row.inner_text()
    shot("ordre-du-jour")
    sign_out(page)

    # 2. The meeting held, the CP's secretary records its opinion for it, and names the
    # CA meeting the letter goes to.
    _held(cp_next, 0.1)
    sign_in(page, "secretaire-cp")
    page.goto(letter_url)
    opinion = page.locator("#action-record_pedagogical_opinion")
    meeting_list = opinion.get_by_role("combobox", name="Séance", exact=False).first
    offered = meeting_list.locator("option").all_inner_texts()
    assert offered == [_label(cp_next)]  # not last week's, which it was never on
    assert _label(cp_past) not in offered
    expect(opinion.get_by_text("La lettre est à l'ordre du jour de la séance du")).to_be_visible()
    _choose(opinion, "Favorable")
    opinion.get_by_label("Séance du conseil d'administration").select_option(label=_label(ca_next))
    shot("avis-cp-seance-de-l-ordre-du-jour")
    opinion.get_by_role("button", name="Saisir l'avis du conseil pédagogique").click()
    expect(page.get_by_role("status").filter(has_text="conseil pédagogique")).to_be_visible()
    assert Opinion.objects.get(letter=letter, council=CouncilKind.PEDAGOGICAL).meeting == cp_next
    assert AgendaItem.objects.filter(letter=letter, meeting=ca_next).exists()
    assert _state(letter) == LetterState.BOARD
    sign_out(page)

    # 3. The CA met three days ago without its quorum: refused, the secretary is led to
    # schedule the second convocation, which met yesterday evening.
    _held(ca_next, 3)
    sign_in(page, "secretaire-ca")
    page.goto(letter_url)
    board = page.locator("#action-record_board_opinion")
    assert board.locator("select[name=meeting] option").all_inner_texts() == [_label(ca_next)]

    def votes(present: str) -> None:
        _choose(board, "Favorable")
        board.get_by_label("Présents").fill(present)
        board.get_by_label("Pour", exact=True).fill("9")
        board.get_by_label("Contre").fill("0")
        board.get_by_label("Abstentions").fill("1")
        board.get_by_label("Ne prennent pas part").fill("0")
        board.get_by_role("button", name="Saisir l'avis du conseil d'administration").click()

    votes("10")
    refusal = page.get_by_text("le conseil doit être convoqué à nouveau")
    expect(refusal).to_be_visible()
    assert _state(letter) == LetterState.BOARD
    board = page.locator("#action-record_board_opinion")
    shot("quorum-non-atteint")
    board.get_by_role("link", name="Programmer la séance de seconde convocation").click()
    page.wait_for_url("**/seances/nouvelle/**")
    expect(page.get_by_label("Conseil", exact=True)).to_have_value(str(ca_next.council_id))
    expect(page.get_by_label("Seconde convocation")).to_be_checked()
    expect(page.get_by_text("le conseil d'administration est convoqué à nouveau")).to_be_visible()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    page.get_by_label("Date").fill(yesterday.isoformat())
    page.get_by_label("Heure").fill("18:00")
    page.get_by_label("Lieu").fill("Salle du conseil")
    shot("seconde-convocation")
    page.get_by_role("button", name="Programmer la séance").click()
    page.wait_for_url(letter_url)
    expect(page.get_by_role("status").filter(has_text="Séance programmée")).to_be_visible()
    second = _carnot(CouncilKind.BOARD).get(convocation=2)
    assert timezone.localtime(second.starts_at).date() == yesterday

    # 4. The second convocation is offered first; it deliberates without quorum.
    board = page.locator("#action-record_board_opinion")
    assert board.locator("select[name=meeting] option").all_inner_texts() == [
        _label(second),
        _label(ca_next),
    ]
    shot("avis-ca-seconde-convocation")
    votes("10")
    expect(page.get_by_role("status").filter(has_text="conseil d'administration")).to_be_visible()
    recorded = Opinion.objects.get(letter=letter, council=CouncilKind.BOARD)
    assert (recorded.meeting_id, recorded.members_present, recorded.quorum_met) == (
        second.pk,
        10,
        True,
    )
    assert _state(letter) == LetterState.SIGNATURE
    shot("en-signature")

    # The agendas no longer list it: it waits for no council.
    _to_meetings(page)
    expect(
        page.get_by_role("link", name=f"Lycée Carnot — {letter.school_year.code}")
    ).to_have_count(0)
    shot("seances-apres")
