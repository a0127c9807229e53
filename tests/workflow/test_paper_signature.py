"""A signatory who signs the printed letter by hand: the principal's side records it with
the scan (« signature manuscrite »), and it counts like a signature given in the
application, up to bringing the letter into force."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from pypdf import PdfReader
from rest_framework.authtoken.models import Token

from notifications.services import render_pending_archives
from tests.factories import School, fire, letter_in_state, make_school, shown
from tests.html_forms import form_fields
from workflow.audit.chain import verify_scans
from workflow.lifecycle import payloads
from workflow.models import (
    Archive,
    AuditEvent,
    LetterState,
    MissionLetter,
    OutboxItem,
    OutboxKind,
    Signature,
    SignatureMethod,
    SignatureQuality,
)

pytestmark = pytest.mark.django_db

FORM = "action-record_paper_signature"
SCAN = b"%PDF-1.4\n% the scan of a page signed by hand\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def _scan(content: bytes = SCAN, name: str = "scan.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def _signing(prefix: str) -> tuple[School, MissionLetter]:
    school = make_school(prefix)
    return school, letter_in_state(school, LetterState.SIGNATURE)


def _page(client: Client, letter: MissionLetter) -> str:
    return client.get(f"/lettres/{letter.pk}/").content.decode()


def _pdf_text(pdf: bytes) -> str:
    return " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split()
    )


def test_a_referent_who_signs_on_paper_brings_the_letter_into_force(client: Client) -> None:
    school, letter = _signing("Papier")
    fire(letter, "sign", school.principal, **shown(letter))
    fire(letter, "sign", school.referent2, **shown(letter))
    client.force_login(school.principal)
    page = _page(client, letter)
    assert 'enctype="multipart/form-data"' in page
    fields = dict(form_fields(page, FORM))
    # Only the référent still awaited is offered, on the current version.
    assert fields["signer"] == [str(school.referent1.pk)]
    assert f'value="{school.referent2.pk}"' not in page.split(f'id="{FORM}"')[1].split("</form>")[0]
    assert fields["version"] == [str(letter.version)]
    answer = client.post(
        f"/lettres/{letter.pk}/actions/record_paper_signature/",
        {**fields, "scan": _scan()},
        follow=True,
    )
    assert "Signature manuscrite enregistrée sur la version" in answer.content.decode()
    letter.refresh_from_db()
    assert letter.state == LetterState.IN_FORCE

    signature = Signature.objects.get(letter=letter, signer=school.referent1)
    assert signature.method == SignatureMethod.PAPER
    assert signature.quality == SignatureQuality.REFERENT
    assert signature.signer_name == "Sophie Durand"
    assert signature.recorded_by == school.principal
    assert signature.version == letter.version
    assert signature.snapshot_sha256 == shown(letter)["snapshot_sha256"]
    assert signature.scan.name.startswith("signatures-manuscrites/")
    with signature.scan.open("rb") as stored:
        assert stored.read() == SCAN
    assert signature.scan_sha256 == hashlib.sha256(SCAN).hexdigest()
    assert verify_scans() == []

    # The step is in the history, with the signatory and the scan's hash, and asks for
    # the in-force e-mails and the sealed letter like the last electronic signature.
    event = AuditEvent.objects.filter(letter=letter).latest("sequence")
    assert event.action == "record_paper_signature"
    assert event.to_state == LetterState.IN_FORCE
    assert event.payload["signer"] == school.referent1.username
    assert event.payload["method"] == "paper"
    assert event.payload["scan_sha256"] == signature.scan_sha256
    entry = next(s for s in event.snapshot["signatures"] if s["username"] == "referent1-Papier")
    assert entry["method"] == "paper"
    assert entry["scan_sha256"] == signature.scan_sha256
    told = set(
        OutboxItem.objects.filter(event=event, kind=OutboxKind.NOTIFICATION).values_list(
            "recipient__username", "topic"
        )
    )
    assert ("referent1-Papier", "letter_in_force") in told
    assert ("principal-Papier", "letter_in_force") in told

    # Listed on the letter's page, with its scan for whoever sees the letter.
    page = _page(client, letter)
    assert "signature manuscrite" in page
    scan_url = f"/lettres/{letter.pk}/signatures/{signature.pk}/scan.pdf"
    assert scan_url in page
    download = client.get(scan_url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == SCAN  # type: ignore[attr-defined]
    dan = Client()
    dan.force_login(school.dan)
    assert "signature manuscrite" in _page(dan, letter)
    assert dan.get(scan_url).status_code == 200
    stranger = Client()
    stranger.force_login(make_school("Ailleurs").principal)
    assert stranger.get(scan_url).status_code == 404

    # Archived: the step's PDF names the paper signature and its scan's hash.
    render_pending_archives(limit=100)
    archive = Archive.objects.get(event=event)
    with archive.file.open("rb") as stored:
        text = _pdf_text(stored.read())
    assert "Sophie Durand" in text
    assert "signature manuscrite" in text
    assert "dans l'application" in text  # the other two signatures
    call_command("verify_audit", stdout=io.StringIO(), stderr=io.StringIO())

    # A scan storage lost (a restore that left it behind) is a 404, not a 500.
    signature.scan.storage.delete(signature.scan.name)
    assert dan.get(scan_url).status_code == 404


def test_the_deputy_records_the_principals_paper_signature_counted_once(client: Client) -> None:
    school, letter = _signing("Adjoint")
    api = Client()
    api.force_login(school.deputy)
    answer = api.post(
        f"/api/v1/letters/{letter.pk}/transitions/record_paper_signature/",
        {"signer": school.principal.pk, "scan": _scan()},
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["state"] == LetterState.SIGNATURE
    signature = Signature.objects.get(letter=letter, signer=school.principal)
    assert signature.quality == SignatureQuality.PRINCIPAL
    assert signature.recorded_by == school.deputy
    # The principal's side has signed: neither the principal nor the deputy may sign
    # again, on paper or in the application.
    again = api.post(
        f"/api/v1/letters/{letter.pk}/transitions/record_paper_signature/",
        {"signer": school.principal.pk, "scan": _scan()},
    )
    assert again.status_code == 409
    assert "Claire Martin a déjà signé la version" in again.json()["detail"]
    deputy_signs = api.post(
        f"/api/v1/letters/{letter.pk}/transitions/sign/",
        shown(letter),
        content_type="application/json",
    )
    assert deputy_signs.status_code == 409
    # The two référents sign in the application: the letter comes into force.
    fire(letter, "sign", school.referent1, **shown(letter))
    letter = fire(letter, "sign", school.referent2, **shown(letter))
    assert letter.state == LetterState.IN_FORCE


def test_refusals(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    school, letter = _signing("Refus")
    fire(letter, "sign", school.referent2, **shown(letter))
    url = f"/api/v1/letters/{letter.pk}/transitions/record_paper_signature/"
    token = Token.objects.create(user=school.principal).key
    api = Client(HTTP_AUTHORIZATION=f"Token {token}")

    def post(**data: Any) -> Any:
        return api.post(url, {"signer": school.referent1.pk, "scan": _scan(), **data})

    not_pdf = post(scan=_scan(b"GIF89a not a PDF", name="scan.pdf"))
    assert not_pdf.status_code == 400
    assert not_pdf.json()["errors"]["scan"] == ["Le scan doit être un fichier PDF."]
    monkeypatch.setattr(payloads, "SCAN_MAX_BYTES", 10)
    too_large = post()
    assert too_large.status_code == 400
    assert "Le scan dépasse" in too_large.json()["errors"]["scan"][0]
    monkeypatch.undo()
    missing = api.post(url, {"signer": school.referent1.pk})
    assert missing.status_code == 400
    assert "scan" in missing.json()["errors"]
    already = post(signer=school.referent2.pk)
    assert already.status_code == 409
    assert already.json()["detail"] == "Karim Benali a déjà signé la version 1."
    not_awaited = post(signer=school.teacher.pk)
    assert not_awaited.status_code == 409
    assert not_awaited.json()["code"] == "not_awaited"
    assert "Paul Lambert" in not_awaited.json()["detail"]
    other_version = post(version=letter.version + 1)
    assert other_version.status_code == 409
    assert other_version.json()["code"] == "snapshot_mismatch"
    as_json = api.post(
        url, {"signer": school.referent1.pk, "scan": "JVBERi0="}, content_type="application/json"
    )
    assert as_json.status_code == 400
    assert Signature.objects.filter(letter=letter).count() == 1

    # Only the principal's side records it.
    referent = Client()
    referent.force_login(school.referent1)
    assert referent.post(url, {"signer": school.referent1.pk, "scan": _scan()}).status_code == 403
    assert 'id="action-record_paper_signature"' not in _page(referent, letter)
    page_post = referent.post(
        f"/lettres/{letter.pk}/actions/record_paper_signature/",
        {"signer": school.referent1.pk, "scan": _scan()},
    )
    assert page_post.status_code == 403

    # From the page, a refusal comes back in French on the letter.
    client.force_login(school.principal)
    fields = dict(form_fields(_page(client, letter), FORM))
    answer = client.post(
        f"/lettres/{letter.pk}/actions/record_paper_signature/",
        {**fields, "scan": _scan(b"not a pdf", name="scan.pdf")},
        follow=True,
    )
    assert "Le scan doit être un fichier PDF." in answer.content.decode()
    letter.refresh_from_db()
    assert letter.state == LetterState.SIGNATURE
    assert not Signature.objects.filter(letter=letter, method=SignatureMethod.PAPER).exists()
    # Not offered before the signatures, nor once the letter is in force.
    other = make_school("Conseil")
    board = letter_in_state(other, LetterState.BOARD)
    head = Client()
    head.force_login(other.principal)
    assert 'id="action-record_paper_signature"' not in _page(head, board)


def test_a_scan_altered_after_the_fact_is_found(client: Client) -> None:
    school, letter = _signing("Altere")
    fire(
        letter,
        "record_paper_signature",
        school.principal,
        signer=school.referent1.pk,
        scan=_scan(),
    )
    signature = Signature.objects.get(letter=letter, method=SignatureMethod.PAPER)
    assert verify_scans() == []
    Path(signature.scan.path).write_bytes(SCAN + b"altered")
    (problem,) = verify_scans()
    assert problem.letter_id == letter.pk
    assert "Sophie Durand" in str(problem)
