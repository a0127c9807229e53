"""The sealed letter and its public check (issue 32).

A letter that comes into force asks for its sealed PDF in the transition's transaction;
the sweep renders it (PDF/A, with the check's address and QR code) and seals it with
the configured seal (the session's development seal, tests/conftest.py) and a
timestamp. pyHanko's own validation proves the result; ``/verifier/`` answers anyone.

Sealing costs a few seconds (render, then sign): the tests seal sparingly.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.checks import run_checks
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from notifications import tasks
from notifications.services import render_pending_seals
from tests.factories import School, advance, make_letter, make_school
from workflow.audit import seal
from workflow.audit.pdf import render_letter_pdf
from workflow.audit.snapshot import full_snapshot
from workflow.models import (
    MissionLetter,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    SealedLetter,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
    settings.SITE_URL = "https://lettres.example.fr"


def in_force(prefix: str) -> tuple[School, MissionLetter]:
    school = make_school(prefix)
    letter = advance(make_letter(school), school, "in_force")
    return school, letter


def sealed_letter(prefix: str) -> tuple[School, MissionLetter, SealedLetter, bytes]:
    school, letter = in_force(prefix)
    assert render_pending_seals() == 1
    record = SealedLetter.objects.get(letter=letter)
    with record.file.open("rb") as stored:
        return school, letter, record, stored.read()


def validate(pdf: bytes) -> Any:
    """pyHanko's validation of the file's one signature, trusting the dev CA and seal."""
    key = seal.seal_key()
    ca = seal.load_pem_certificate(seal.seal_dir() / seal.DEV_CA_CERT)
    context = ValidationContext(trust_roots=[ca], allow_fetching=False)
    [signature] = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    status = validate_pdf_signature(
        signature, signer_validation_context=context, ts_validation_context=context
    )
    return status, key


def test_a_letter_brought_into_force_is_sealed_by_the_sweep_and_validates():
    school, letter = in_force("Scellée")
    # Asked for in the transition's transaction, once for the letter and its version.
    [request] = OutboxItem.objects.filter(kind=OutboxKind.SEAL, letter=letter)
    assert request.key == f"seal:{letter.pk}:v{letter.version}"
    assert request.event is not None
    assert request.event.action == "sign"

    tasks.sweep()

    request.refresh_from_db()
    assert request.status == OutboxStatus.DONE
    record = SealedLetter.objects.get(letter=letter)
    assert record.version == letter.version
    assert record.level == "B-T"  # the development CA publishes no revocation data
    with record.file.open("rb") as stored:
        pdf = stored.read()
    assert record.sha256 == hashlib.sha256(pdf).hexdigest()
    assert record.size == len(pdf)
    assert re.fullmatch(r"[a-z2-7]{16}", record.token)

    # pyHanko's own validation: intact, sound, the whole file, timestamped, our seal.
    status, key = validate(pdf)
    assert status.intact
    assert status.valid
    assert status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.docmdp_ok
    assert status.timestamp_validity is not None
    assert status.timestamp_validity.intact
    assert status.timestamp_validity.valid
    assert status.timestamp_validity.trusted
    assert status.signing_cert.sha256 == key.certificate.sha256
    assert "cachet de test" in status.signing_cert.subject.human_friendly
    assert seal.verify_sealed(pdf).genuine

    # The letter's PDF, as PDF/A, printing where to check it.
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    url = f"https://lettres.example.fr/verifier/{record.token}/"
    assert url in text.replace(" ", "") or url in text
    assert "Document scellé par le service Lettres de mission" in text
    assert reader.xmp_metadata is not None  # WeasyPrint's PDF/A-3b declaration
    xmp = reader.xmp_metadata.stream.get_data()
    assert b'pdfaid:part="3"' in xmp
    assert b'pdfaid:conformance="B"' in xmp
    assert school.establishment.name in text

    # One byte changed in what the seal covers: validation fails.
    tampered = bytearray(pdf)
    position = pdf.index(b"stream", len(pdf) // 3) + 20
    tampered[position] ^= 0x01
    status, _key = validate(bytes(tampered))
    assert not status.intact
    assert not seal.verify_sealed(bytes(tampered)).genuine

    # Sealed once: the sweep again changes nothing.
    tasks.sweep()
    assert SealedLetter.objects.filter(letter=letter).count() == 1


def test_the_check_says_genuine_modified_or_unknown(client):
    school, letter, record, pdf = sealed_letter("Vérifiée")

    response = client.post(
        "/verifier/", {"document": SimpleUploadedFile("lettre.pdf", pdf, "application/pdf")}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Document authentique" in html
    assert "n&#x27;a pas été modifié depuis" in html
    assert school.establishment.name in html
    assert record.sha256 in html
    assert f"/verifier/{record.token}/" in html

    # Appended after the seal (an incremental update): the seal no longer covers it all.
    appended = pdf + b"\n% ajout\n"
    response = client.post(
        "/verifier/", {"document": SimpleUploadedFile("lettre.pdf", appended, "application/pdf")}
    )
    html = response.content.decode()
    assert "Document modifié" in html
    assert "Document authentique" not in html

    # A byte of the letter changed.
    tampered = bytearray(pdf)
    tampered[pdf.index(b"stream", len(pdf) // 3) + 20] ^= 0x01
    response = client.post(
        "/verifier/",
        {"document": SimpleUploadedFile("lettre.pdf", bytes(tampered), "application/pdf")},
    )
    html = response.content.decode()
    assert "Document modifié" in html
    # It claims to be this letter (the code in its seal): the genuine one is named.
    assert f"/verifier/{record.token}/" in html

    # Another PDF, never sealed: unknown.
    other = render_letter_pdf(full_snapshot(letter))
    response = client.post(
        "/verifier/", {"document": SimpleUploadedFile("autre.pdf", other, "application/pdf")}
    )
    html = response.content.decode()
    assert "Document inconnu" in html
    assert "aucun cachet" in html

    response = client.post(
        "/verifier/", {"document": SimpleUploadedFile("x.pdf", b"pas un PDF", "application/pdf")}
    )
    assert "Fichier illisible" in response.content.decode()

    response = client.post("/verifier/", {})
    assert "Choisissez le fichier PDF à vérifier." in response.content.decode()


def test_the_public_page_shows_the_public_facts_only_to_anyone(client):
    school, letter, record, _pdf = sealed_letter("Publique")
    response = client.get(f"/verifier/{record.token}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert school.establishment.name in html
    assert school.establishment.uai in html
    assert "2026-2027" in html
    assert record.sha256 in html
    for person in (school.principal, school.referent1, school.referent2):
        assert person.get_full_name() in html
    assert "Le référent numérique" in html
    # Nothing else: no amount, no e-mail address, no mission.
    assert "€" not in html
    assert "@" not in html
    for person in school.people().values():
        assert person.email not in html
    content = letter.versions.get(number=letter.version).content
    for mission in content["missions"]:
        assert mission["text"] not in html

    assert client.get("/verifier/aaaaaaaaaaaaaaaa/").status_code == 404


def test_the_letter_page_links_the_sealed_pdf_for_those_who_see_it(client):
    school, letter, record, pdf = sealed_letter("Lien")
    client.force_login(school.referent1)
    page = client.get(f"/lettres/{letter.pk}/").content.decode()
    assert "Lettre scellée (PDF)" in page
    assert f"/verifier/{record.token}/" in page
    response = client.get(f"/lettres/{letter.pk}/lettre-scellee.pdf")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf

    stranger = make_school("Ailleurs").principal
    client.force_login(stranger)
    assert client.get(f"/lettres/{letter.pk}/lettre-scellee.pdf").status_code == 404
    client.logout()
    assert client.get(f"/lettres/{letter.pk}/lettre-scellee.pdf").status_code == 302

    # A file storage lost (a restore that left it behind) is a 404, not a 500.
    Path(record.file.path).unlink()
    client.force_login(school.referent1)
    assert client.get(f"/lettres/{letter.pk}/lettre-scellee.pdf").status_code == 404


def test_the_public_check_is_rate_limited(client, settings):
    from django.core.cache import cache

    cache.clear()
    settings.VERIFY_RATE_PER_MINUTE = 3
    for _ in range(3):
        assert client.get("/verifier/").status_code == 200
    response = client.get("/verifier/")
    assert response.status_code == 429
    assert "Trop de vérifications" in response.content.decode()
    assert int(response["Retry-After"]) <= 60
    cache.clear()


# Counting the public check's requests in another process, as another gunicorn worker
# would: its statuses, printed.
OTHER_WORKER = """
import sys, django
django.setup()
from django.test import Client
client = Client(REMOTE_ADDR=sys.argv[1])
print(*[client.get("/verifier/", secure=True).status_code for _ in range(int(sys.argv[2]))])
"""


def _redis_cache(location: str) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": "lettres",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


@pytest.mark.redis
def test_with_cache_url_every_worker_counts_together(client, settings):
    """Two requests counted by another process, the third here: the limit of three a
    minute is reached across both, as across gunicorn's workers."""
    address = f"198.51.100.{secrets.randbelow(250) + 1}"  # this run's own count
    settings.CACHES = _redis_cache(settings.REDIS_URL)
    settings.VERIFY_RATE_PER_MINUTE = 3
    env = {
        **os.environ,
        "CACHE_URL": settings.REDIS_URL,
        "VERIFY_RATE_PER_MINUTE": "3",
        "ALLOWED_HOSTS": "testserver",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # Static files by their own names, as in the tests: no collectstatic here.
        "DEBUG": "true",
    }
    other = subprocess.run(
        [sys.executable, "-c", OTHER_WORKER, address, "2"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
    )
    assert other.stdout.split() == ["200", "200"], other.stderr[-3000:]
    assert client.get("/verifier/", REMOTE_ADDR=address).status_code == 200
    assert client.get("/verifier/", REMOTE_ADDR=address).status_code == 429


def test_a_cache_that_does_not_answer_lets_the_check_through(client, settings, caplog):
    settings.CACHES = _redis_cache("redis://127.0.0.1:9/0")  # nothing listens there
    settings.VERIFY_RATE_PER_MINUTE = 1
    for _ in range(3):
        assert client.get("/verifier/").status_code == 200
    assert "rate limit of the public check not counted" in caplog.text


def _deploy_errors() -> list[str]:
    return [
        m.id or ""
        for m in run_checks(include_deployment_checks=True)
        if (m.id or "").startswith("workflow.E01")
    ]


def test_production_without_a_seal_refuses_to_start(settings):
    settings.SEAL_PKCS12_PATH = ""
    settings.SEAL_TSA_URL = ""
    assert _deploy_errors() == ["workflow.E010", "workflow.E012"]

    settings.SEAL_PKCS12_PATH = str(seal.seal_dir() / seal.DEV_SEAL_P12)
    settings.SEAL_PKCS12_PASSPHRASE = "pas la bonne"
    settings.SEAL_TSA_URL = "https://horodatage.example.fr/tsa"
    settings.SEAL_TSA_TRUST_ROOTS = ""
    assert _deploy_errors() == ["workflow.E011", "workflow.E013"]
    settings.SEAL_TSA_TRUST_ROOTS = str(seal.seal_dir() / seal.DEV_CA_CERT)
    assert _deploy_errors() == ["workflow.E011"]

    settings.SEAL_PKCS12_PASSPHRASE = (seal.seal_dir() / seal.DEV_SEAL_PASSPHRASE).read_text()
    assert _deploy_errors() == []


def test_make_dev_seal_is_idempotent(tmp_path: Path, settings):
    call_command("make_dev_seal", "--dir", str(tmp_path))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert set(before) >= {"ca.pem", "seal.p12", "seal.passphrase", "tsa.pem", "tsa.key.pem"}
    call_command("make_dev_seal", "--dir", str(tmp_path))
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
