"""The letter and report PDFs, and the archives the sweep renders for every audit event
(DESIGN §6): what the signed letter shows, one archive per event with its sha256, made
once, and a verification that names a tampered or a missing file.

PDFs cost a few tenths of a second each: they are rendered sparingly."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone, translation
from pypdf import PdfReader

from governance.models import CatalogItem
from notifications.services import render_pending_archives
from tests.factories import School, advance, complete_report, fire, make_letter, make_school
from workflow.audit.chain import verify_archives
from workflow.audit.pdf import render_letter_pdf, render_report_pdf
from workflow.audit.snapshot import content_sha256, full_snapshot
from workflow.models import (
    Archive,
    AuditEvent,
    MissionLetter,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    Signature,
    SignatureQuality,
    YearEndReport,
)
from workflow.services.report import save_report

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def pdf_text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def flat(text: str) -> str:
    """Every run of white space (line breaks, no-break spaces) as one space."""
    return " ".join(text.split())


def compact(text: str) -> str:
    """Without any white space: a hash wrapped across lines reads whole again."""
    return "".join(text.split())


def signed_by_deputy(school: School) -> MissionLetter:
    """A letter in force, signed by the deputy for the principal and by both referents."""
    letter = advance(make_letter(school), school, "signature")
    for signer in (school.deputy, school.referent1, school.referent2):
        letter = fire(letter, "sign", signer, snapshot_sha256=content_sha256(letter))
    assert letter.state == "in_force"
    return letter


def test_the_letter_in_force_shows_everything_that_was_agreed_and_signed():
    school = make_school("Pasteur")
    letter = signed_by_deputy(school)
    raw = pdf_text(render_letter_pdf(full_snapshot(letter)))
    text = flat(raw)

    establishment = school.establishment
    assert f"{establishment.name} (UAI {establishment.uai})" in text
    assert "année scolaire 2026-2027" in text
    assert "état : En vigueur" in text
    assert "2015-475" in text
    assert "arrêtés du 27 avril 2015" in text

    # The referents and their recognition.
    assert "Sophie Durand IMP de 1 250,00 € Accompagnement des équipes" in text
    assert "Karim Benali décharge de 1,00 h hebdomadaire ENT et PIX" in text
    assert "du 01/09/2026 au 31/08/2027" in text

    # The missions, under their catalogue heading, with their priority.
    missions = text[text.index("Missions confiées") : text.index("Indicateurs d'évaluation")]
    items = list(CatalogItem.objects.filter(outside_scope=False).select_related("heading"))
    first, second = sorted(items, key=lambda item: item.pk)[:2]
    assert f"{first.text} principale Sophie Durand" in missions
    assert f"{second.text} secondaire Sophie Durand, Karim Benali" in missions
    for item in (first, second):
        assert missions.count(item.heading.title) == 1
        assert missions.index(item.heading.title) < missions.index(item.text)
    assert missions.index(second.text) < missions.index("Autres missions")
    assert "Autres missions Animer le club robotique secondaire Karim Benali" in missions

    assert "Nombre de sessions de prise en main 6 par an" in text
    assert "Part des classes utilisant l'ENT 80 %" in text
    assert "Moyens mis à disposition : Bureau, Téléphone." in text
    assert "Niveau de qualification : Certification PIX niveau expert." in text
    assert "Suivi des activités : bilan annuel." in text

    # Both councils' opinions, the CA's with its votes.
    assert "Conseil pédagogique 1 Favorable" in text
    assert (
        "Conseil d'administration 1 Favorable pour 20, contre 2, abstentions 1, "
        "ne prennent pas part 0 ; présents 23, quorum atteint"
    ) in text

    # Every signature: who, in what quality, when, and the hash of what was signed.
    signatures = list(Signature.objects.filter(letter=letter).select_related("signer"))
    assert {s.quality for s in signatures} == {
        SignatureQuality.DEPUTY_BY_DELEGATION,
        SignatureQuality.REFERENT,
    }
    for signature in signatures:
        signed_at = timezone.localtime(signature.signed_at).strftime("%d/%m/%Y à %H:%M")
        assert (
            f"{signature.signer.get_full_name()} {SignatureQuality(signature.quality).label} "
            f"{signed_at}"
        ) in text
    assert "Julien Bernard Pour le chef d'établissement et par délégation, l'adjoint" in text
    sha = content_sha256(letter)
    assert {s.snapshot_sha256 for s in signatures} == {sha}
    # Once per signature, and once more for the content of the version.
    assert compact(raw).count(sha) == len(signatures) + 1 == 4


def test_the_report_pdf_shows_outcomes_and_results():
    school = make_school("Rapport")
    letter = advance(make_letter(school), school, "report_due")
    report = YearEndReport.objects.get(letter=letter)
    outcomes = list(report.outcomes.select_related("mission").order_by("mission__order"))
    results = list(report.results.select_related("indicator").order_by("indicator__order"))
    statuses = [("done", "Réalisée"), ("partly", "Partiellement réalisée"), ("not_done", "Non")]
    save_report(
        letter_id=letter.pk,
        user=school.referent1,
        data={
            "outcomes": [
                {"mission": o.mission_id, "status": status, "comment": f"Bilan n° {n}"}
                for n, (o, (status, _label)) in enumerate(zip(outcomes, statuses, strict=True))
            ],
            "results": [
                {"indicator": r.indicator_id, "result": f"Résultat n° {n}"}
                for n, r in enumerate(results)
            ],
            "difficulties": "Peu de temps de concertation",
            "training_needs": "Formation à l'IA générative",
            "proposals": "Créer un club numérique",
        },
    )
    text = flat(pdf_text(render_report_pdf(full_snapshot(letter))))

    assert f"{school.establishment.name} (UAI {school.establishment.uai})" in text
    assert "Compte rendu de mission du référent numérique" in text
    assert "Adressé au chef d'établissement et au DAN par Sophie Durand, Karim Benali." in text
    for n, (outcome, (_status, label)) in enumerate(zip(outcomes, statuses, strict=True)):
        assert f"{outcome.mission.text} {label}" in text
        assert f"Bilan n° {n}" in text
    assert "Non réalisée Bilan n° 2" in text
    for n, result in enumerate(results):
        assert f"{result.indicator.text} Résultat n° {n}" in text
    assert "Difficultés rencontrées Peu de temps de concertation" in text
    assert "Besoins de formation Formation à l'IA générative" in text
    assert "Propositions pour l'année suivante Créer un club numérique" in text
    assert "Pas encore remis." in text


def test_the_report_pdf_shows_when_it_was_submitted_in_paris_time():
    with time_machine.travel(dt.datetime(2027, 6, 7, 10, 15, tzinfo=PARIS), tick=False):
        school = make_school("Remis")
        letter = advance(make_letter(school), school, "report_due")
        complete_report(letter, school.referent1)
        fire(letter, "submit_report", school.referent1)
        text = flat(pdf_text(render_report_pdf(full_snapshot(letter))))
    assert "Remis le 07/06/2027 à 10:15." in text


def test_each_audit_event_is_archived_once_and_verified(settings, tmp_path: Path):
    settings.MEDIA_ROOT = tmp_path
    school = make_school("Archives")
    letter = make_letter(school)
    fire(letter, "open_concertation", school.principal)
    events = list(AuditEvent.objects.filter(letter=letter).order_by("sequence"))
    assert [e.action for e in events] == ["create", "open_concertation"]

    with translation.override("en"):  # an archive is French, whoever's page asked for it
        assert render_pending_archives() == len(events)
    assert not OutboxItem.objects.filter(
        kind=OutboxKind.ARCHIVE, status=OutboxStatus.PENDING
    ).exists()
    archives = [Archive.objects.get(event=event) for event in events]
    for archive in archives:
        stored = Path(archive.file.path)
        assert stored.is_relative_to(tmp_path)
        content = stored.read_bytes()
        assert content.startswith(b"%PDF")
        assert archive.sha256 == hashlib.sha256(content).hexdigest()
        assert archive.size == len(content)
    last = archives[-1]
    with last.file.open("rb") as stored_file:
        archived = pdf_text(stored_file.read())
    # The step named in French, as the history names it, at the foot and in the name.
    assert "Archive de l'étape n° 2 « Ouvrir la concertation »" in flat(archived)
    assert [Path(a.file.name).name for a in archives] == [
        f"0001-creation-de-la-lettre-{events[0].hash[:12]}.pdf",
        f"0002-ouvrir-la-concertation-{events[1].hash[:12]}.pdf",
    ]
    assert events[-1].hash in compact(archived)
    assert "état : Concertation avec le(s) référent(s)" in flat(archived)

    # Made once: a second sweep renders nothing and changes nothing.
    files = sorted(p.name for p in tmp_path.rglob("*.pdf"))
    assert render_pending_archives() == 0
    assert Archive.objects.count() == len(events)
    assert sorted(p.name for p in tmp_path.rglob("*.pdf")) == files

    assert verify_archives() == []
    call_command("verify_audit")

    # Tamper with the first file, delete the second.
    first, second = archives
    content_of_first = Path(first.file.path).read_bytes()
    Path(first.file.path).write_bytes(b"%PDF-1.7 tampered")
    Path(second.file.path).unlink()
    problems = verify_archives()
    assert [(p.letter_id, p.sequence, p.name, p.reason) for p in problems] == [
        (letter.pk, 1, first.file.name, "le fichier ne correspond plus à son empreinte"),
        (letter.pk, 2, second.file.name, "le fichier a disparu"),
    ]
    with pytest.raises(CommandError, match=re.escape(first.file.name)):
        call_command("verify_audit")
    # With the first file put back, the command names the missing one.
    Path(first.file.path).write_bytes(content_of_first)
    assert [p.name for p in verify_archives()] == [second.file.name]
    with pytest.raises(CommandError, match=re.escape(second.file.name)) as excinfo:
        call_command("verify_audit")
    assert "le fichier a disparu" in str(excinfo.value)
    # The API hands over the archive still there; the lost one is a 404, not a 500.
    client = Client()
    client.force_login(school.principal)
    url = "/api/v1/letters/{}/archives/{}/pdf/"
    kept = client.get(url.format(letter.pk, 1))
    assert kept.status_code == 200
    assert b"".join(kept.streaming_content) == content_of_first  # type: ignore[attr-defined]
    lost = client.get(url.format(letter.pk, 2))
    assert lost.status_code == 404
    assert lost.json() == {
        "code": "not_found",
        "detail": "Le fichier de cette archive a disparu.",
    }
