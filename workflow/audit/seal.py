"""The service's seal: a letter in force is sealed as a PAdES PDF, and anyone can check it.

The seal is the service's certificate and key, read from a PKCS#12 file
(``SEAL_PKCS12_PATH`` and ``SEAL_PKCS12_PASSPHRASE``), and an RFC 3161 timestamp from
the authority at ``SEAL_TSA_URL``. With neither set (the embedded default and the
tests), the development seal that ``make_dev_seal`` writes in ``SEAL_DIR`` signs, and a
local timestamp signer of the same test CA stamps: the code path is the same, only the
keys differ. ``check --deploy`` refuses production without a configured seal.

``timestamper()`` is shared: the daily audit timestamps use the same authority.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import datetime as dt
import enum
import hashlib
import io
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from asn1crypto import keys, x509  # type: ignore[import-untyped]
from django.conf import settings
from django.urls import reverse
from pyhanko.sign.timestamps.api import TimeStamper

logger = logging.getLogger(__name__)

# The development seal's files, in SEAL_DIR (make_dev_seal writes them).
DEV_CA_CERT = "ca.pem"
DEV_CA_KEY = "ca.key.pem"
DEV_SEAL_P12 = "seal.p12"
DEV_SEAL_PASSPHRASE = "seal.passphrase"
DEV_TSA_CERT = "tsa.pem"
DEV_TSA_KEY = "tsa.key.pem"


class SealUnavailable(RuntimeError):
    """The seal or its timestamp authority is not configured, or its files are missing."""


def seal_dir() -> Path:
    return Path(settings.SEAL_DIR)


def uses_dev_seal() -> bool:
    """Whether the seal is the development one (no PKCS#12 configured)."""
    return not settings.SEAL_PKCS12_PATH


def uses_dev_timestamper() -> bool:
    """Whether timestamps come from the local development signer (no authority URL)."""
    return not settings.SEAL_TSA_URL


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise SealUnavailable(
            f"{path} is missing: run `python manage.py make_dev_seal`, or set "
            "SEAL_PKCS12_PATH, SEAL_PKCS12_PASSPHRASE and SEAL_TSA_URL."
        ) from exc


def load_pem_certificate(path: Path) -> x509.Certificate:
    from asn1crypto import pem

    data = _read(path)
    if pem.detect(data):
        _, _, data = pem.unarmor(data)
    return x509.Certificate.load(data)


def _load_pem_key(path: Path) -> keys.PrivateKeyInfo:
    from asn1crypto import pem

    data = _read(path)
    if pem.detect(data):
        _, _, data = pem.unarmor(data)
    return keys.PrivateKeyInfo.load(data)


def timestamper() -> TimeStamper:
    """The RFC 3161 timestamp client: the authority at ``SEAL_TSA_URL``, or the local
    development signer of ``SEAL_DIR`` when the URL is empty.

    Shared by the seal and the daily audit timestamps, so both use one authority.
    """
    if not uses_dev_timestamper():
        from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

        return RequestsHTTPTimeStamper(settings.SEAL_TSA_URL, timeout=settings.SEAL_TSA_TIMEOUT)
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    directory = seal_dir()
    return DummyTimeStamper(
        tsa_cert=load_pem_certificate(directory / DEV_TSA_CERT),
        tsa_key=_load_pem_key(directory / DEV_TSA_KEY),
        certs_to_embed=SimpleCertificateStore.from_certs(
            [load_pem_certificate(directory / DEV_CA_CERT)]
        ),
    )


# The seal itself --------------------------------------------------------------------------

SEAL_FIELD = "CachetLettresDeMission"


@dataclass(frozen=True)
class SealKey:
    """The seal's key and certificate (with its chain) as pyHanko's signer holds them."""

    signer: Any
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]


def _pkcs12_source() -> tuple[Path, bytes]:
    if uses_dev_seal():
        directory = seal_dir()
        passphrase = _read(directory / DEV_SEAL_PASSPHRASE).strip()
        return directory / DEV_SEAL_P12, passphrase
    return Path(settings.SEAL_PKCS12_PATH), settings.SEAL_PKCS12_PASSPHRASE.encode()


def seal_key() -> SealKey:
    """The configured seal, read from its PKCS#12 file."""
    from pyhanko.sign.signers import SimpleSigner

    path, passphrase = _pkcs12_source()
    data = _read(path)  # SealUnavailable, naming the file, when it is missing
    try:
        signer = SimpleSigner.load_pkcs12_data(data, other_certs=[], passphrase=passphrase or None)
    except ValueError as exc:
        raise SealUnavailable(
            f"{path}: the PKCS#12 file cannot be opened (wrong SEAL_PKCS12_PASSPHRASE?)"
        ) from exc
    certificate = signer.signing_cert
    chain = tuple(c for c in signer.cert_registry if c.sha256 != certificate.sha256)
    return SealKey(signer=signer, certificate=certificate, chain=chain)


def _validation_context(key: SealKey, *, fetch: bool) -> Any:
    """Trust: the seal's own certificate and the chain its PKCS#12 holds, and the
    development CA when timestamps are local. ``fetch``: whether revocation data may be
    fetched from the network (when sealing with a real authority, never when checking
    an uploaded file)."""
    from pyhanko_certvalidator import ValidationContext

    roots = [key.certificate, *key.chain]
    if uses_dev_timestamper() and (seal_dir() / DEV_CA_CERT).exists():
        roots.append(load_pem_certificate(seal_dir() / DEV_CA_CERT))
    return ValidationContext(
        trust_roots=roots,
        allow_fetching=fetch,
        revocation_mode="hard-fail" if fetch else "soft-fail",
    )


T = TypeVar("T")


def _without_event_loop(work: Callable[[], T]) -> T:
    """Run ``work`` (pyHanko's synchronous calls, which start an asyncio loop of their
    own) in a thread of its own when this thread already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


@dataclass(frozen=True)
class Sealed:
    pdf: bytes
    level: str  # "B-LT" with validation data embedded, else "B-T"


def seal_pdf(pdf: bytes, *, reason: str = "") -> Sealed:
    """Seal ``pdf`` with the service's certificate: a PAdES certification signature that
    allows no change, with an RFC 3161 timestamp. The validation data (certificates and
    revocation answers) are embedded when they can be fetched (PAdES B-LT); a seal whose
    CA publishes none (the development one) stays B-T."""
    key = seal_key()
    stamper = timestamper()
    if not uses_dev_seal():
        try:
            return Sealed(_sign(pdf, key, stamper, reason=reason, lt=True), "B-LT")
        except Exception:  # no revocation data to be had: the seal itself still stands
            logger.warning("seal: validation data unavailable, sealing as PAdES B-T", exc_info=True)
    return Sealed(_sign(pdf, key, stamper, reason=reason, lt=False), "B-T")


def _sign(pdf: bytes, key: SealKey, stamper: TimeStamper, *, reason: str, lt: bool) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    meta = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        reason=reason or None,
        embed_validation_info=lt,
        validation_context=_validation_context(key, fetch=True) if lt else None,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    signer = signers.PdfSigner(meta, signer=key.signer, timestamper=stamper)
    out = _without_event_loop(lambda: signer.sign_pdf(writer))
    return bytes(out.getbuffer())


# The check ---------------------------------------------------------------------------------


class Finding(enum.StrEnum):
    """What a check of an uploaded file found, worst first."""

    NOT_PDF = "not_pdf"  # not a PDF that can be read
    UNSEALED = "unsealed"  # a PDF with no signature
    OTHER_SIGNER = "other_signer"  # signed, but not by this service's seal
    ALTERED = "altered"  # our seal, but the file has changed since (or the seal is broken)
    GENUINE = "genuine"  # our seal, intact, covering the whole file, timestamped


@dataclass(frozen=True)
class Verdict:
    """The check of a file: what was found, when it was sealed (the timestamp's time),
    the file's sha256, and the verification code printed on it, when it names one."""

    finding: Finding
    sha256: str
    sealed_at: dt.datetime | None = None
    token: str = ""
    level: str = ""
    details: tuple[str, ...] = field(default_factory=tuple)

    @property
    def genuine(self) -> bool:
        return self.finding == Finding.GENUINE


TOKEN_PATTERN = re.compile(r"/verifier/([a-z2-7]{16})/")


def _token_of(sig: Any) -> str:
    """The verification code the seal's reason names (``…/verifier/<token>/``)."""
    try:
        reason = str(sig.sig_object.get("/Reason", ""))
    except Exception:
        return ""
    match = TOKEN_PATTERN.search(reason)
    return match.group(1) if match else ""


def verify_sealed(pdf: bytes) -> Verdict:
    """Check ``pdf`` with pyHanko's validation: sealed by this service's certificate, the
    seal intact and cryptographically valid, covering the whole file (or the whole of
    its revision followed only by validation data), and timestamped."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    digest = hashlib.sha256(pdf).hexdigest()
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = list(reader.embedded_regular_signatures)
    except Exception:
        return Verdict(Finding.NOT_PDF, digest)
    if not signatures:
        return Verdict(Finding.UNSEALED, digest)
    key = seal_key()
    ours = [s for s in signatures if _is_ours(s, key)]
    if not ours:
        return Verdict(Finding.OTHER_SIGNER, digest)
    sig = ours[0]
    token = _token_of(sig)
    try:
        context = _validation_context(key, fetch=False)
        status = _without_event_loop(
            lambda: validate_pdf_signature(
                sig, signer_validation_context=context, ts_validation_context=context
            )
        )
    except Exception as exc:
        return Verdict(Finding.ALTERED, digest, token=token, details=(f"{type(exc).__name__}",))
    problems = []
    if not status.intact:
        problems.append("not_intact")
    if not status.valid:
        problems.append("invalid_signature")
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
        status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and status.modification_level is not None
        and status.modification_level.name == "LTA_UPDATES"
    )
    if not whole:
        problems.append("not_whole_file")
    if status.docmdp_ok is False:
        problems.append("changed_after_seal")
    stamp = status.timestamp_validity
    if stamp is None or not (stamp.intact and stamp.valid):
        problems.append("no_valid_timestamp")
    if status.signing_cert.sha256 != key.certificate.sha256:
        problems.append("other_signer")
    if problems:
        return Verdict(Finding.ALTERED, digest, token=token, details=tuple(problems))
    assert stamp is not None
    return Verdict(
        Finding.GENUINE,
        digest,
        sealed_at=stamp.timestamp,
        token=token,
        level="B-LT" if status.coverage == SignatureCoverageLevel.ENTIRE_REVISION else "B-T",
    )


def _is_ours(sig: Any, key: SealKey) -> bool:
    try:
        return bool(sig.signer_cert.sha256 == key.certificate.sha256)
    except Exception:
        return False


# The sealed letter -------------------------------------------------------------------------


def new_token() -> str:
    """A verification code for the public check's address: 80 random bits, in lowercase
    base32 (16 letters and digits, none of 0, 1, 8, 9) so that it is typed from paper
    without ambiguity."""
    return base64.b32encode(secrets.token_bytes(10)).decode().lower()


def verify_url(token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("verify_letter", args=[token])


def check_url() -> str:
    return settings.SITE_URL.rstrip("/") + reverse("verify_upload")


def qr_data_uri(url: str) -> str:
    """``url`` as a QR code, an SVG data URI the PDF embeds."""
    import segno

    return str(segno.make(url, error="m").svg_data_uri(scale=4, border=2))


def sealed_letter_pdf(snapshot: dict[str, Any], token: str) -> Sealed:
    """The in-force letter of ``snapshot`` as it leaves the application: its PDF/A,
    printing the public check's address and QR code for ``token``, sealed."""
    from workflow.audit.pdf import render_letter_pdf

    url = verify_url(token)
    pdf = render_letter_pdf(
        snapshot, seal={"verify_url": url, "check_url": check_url(), "qr": qr_data_uri(url)}
    )
    content = snapshot["content"]
    reason = (
        f"Lettre de mission {content['establishment']['name']} {content['school_year']}, "
        f"version {content['version']}, en vigueur — vérification : {url}"
    )
    return seal_pdf(pdf, reason=reason)
