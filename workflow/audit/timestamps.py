"""The audit chains, timestamped once a day by an RFC 3161 authority.

The heads of the chains that moved on a day (each letter's last event of that day: the
letter, the event's number and its hash) are written as canonical JSON with the day, and
the sha256 of that text is timestamped (``AuditTimestamp``). An event's hash covers the
previous one's, so a head vouches for its letter's whole history up to it: rewriting
any event up to that day, even by recomputing every hash with the database in hand,
changes a head, which no longer matches the token signed by the authority.
``verify_day`` says so, naming the day.

The authority is the seal's (``workflow.audit.seal.timestamper``). A day is stamped once
it is over (the heads of a day still under way would leave its later events out).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import cms, pem, x509  # type: ignore[import-untyped]
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from workflow.audit.chain import event_hash
from workflow.audit.seal import (
    DEV_CA_CERT,
    SealUnavailable,
    seal_dir,
    timestamper,
    uses_dev_timestamper,
)
from workflow.audit.snapshot import canonical_json
from workflow.models import AuditEvent, AuditTimestamp

logger = logging.getLogger(__name__)

# The days before yesterday still stamped when the daily task finds them missing (the
# beat was down): a day stamped late is still stamped, but proves less.
CATCH_UP_DAYS = 7


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The day's first moment and the next day's, in the application's time zone."""
    zone = timezone.get_default_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start, end


def day_heads(day: dt.date) -> list[list[Any]]:
    """``[letter id, number, hash]`` of each letter's last event of ``day``, by letter:
    the heads of the chains that moved that day, as the events stand now."""
    start, end = _day_bounds(day)
    of_day = AuditEvent.objects.filter(created_at__gte=start, created_at__lt=end)
    last = dict(
        of_day.values("letter_id").annotate(last=Max("sequence")).values_list("letter_id", "last")
    )
    if not last:
        return []
    heads = {
        (letter_id, sequence): digest
        for letter_id, sequence, digest in of_day.filter(letter_id__in=list(last)).values_list(
            "letter_id", "sequence", "hash"
        )
        if last[letter_id] == sequence
    }
    return [[letter, sequence, heads[letter, sequence]] for letter, sequence in sorted(heads)]


def heads_message(day: dt.date, heads: list[list[Any]]) -> bytes:
    """What is timestamped for a day: its heads, with the day, as canonical JSON."""
    return canonical_json({"day": day.isoformat(), "heads": heads}).encode("utf-8")


def _authority() -> str:
    if uses_dev_timestamper():
        return f"horodatage local de développement ({seal_dir() / 'tsa.pem'})"
    return str(settings.SEAL_TSA_URL)


def timestamp_day(day: dt.date) -> AuditTimestamp | None:
    """Timestamp the heads of ``day``'s chains, once: the day's ``AuditTimestamp`` if
    it has one already, ``None`` when no chain moved that day. The authority is asked
    with no transaction open."""
    existing = AuditTimestamp.objects.filter(day=day).first()
    if existing is not None:
        return existing
    heads = day_heads(day)
    if not heads:
        return None
    message = heads_message(day, heads)
    digest = hashlib.sha256(message)
    token: cms.ContentInfo = asyncio.run(timestamper().async_timestamp(digest.digest(), "sha256"))
    try:
        with transaction.atomic():
            return AuditTimestamp.objects.create(
                day=day,
                heads=heads,
                digest=digest.hexdigest(),
                token=token.dump(),
                authority=_authority(),
            )
    except IntegrityError:  # another worker stamped it meanwhile
        return AuditTimestamp.objects.get(day=day)


def timestamp_past_days(today: dt.date | None = None) -> list[AuditTimestamp]:
    """Stamp yesterday, and the days before it (``CATCH_UP_DAYS``) still unstamped: what
    the daily task does. Today is left for tomorrow, once it is over."""
    today = today or timezone.localdate()
    stamped = []
    for back in range(CATCH_UP_DAYS, 0, -1):
        day = today - dt.timedelta(days=back)
        if (found := timestamp_day(day)) is not None:
            stamped.append(found)
    return stamped


# Checking -----------------------------------------------------------------------------


def _certificates(path: Path) -> list[x509.Certificate]:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise SealUnavailable(f"{path} is missing") from exc
    if not pem.detect(data):
        return [x509.Certificate.load(data)]
    return [x509.Certificate.load(der) for _kind, _headers, der in pem.unarmor(data, True)]


def tsa_trust_roots() -> list[x509.Certificate]:
    """The certificates a timestamp token must chain to: the development CA of
    ``SEAL_DIR`` for the local signer; otherwise the authority's roots, a PEM file
    named by ``SEAL_TSA_TRUST_ROOTS`` (outside the database, so that whoever holds it
    cannot slip in tokens of their own)."""
    if uses_dev_timestamper():
        return _certificates(seal_dir() / DEV_CA_CERT)
    path = getattr(settings, "SEAL_TSA_TRUST_ROOTS", "")
    if not path:
        raise SealUnavailable(
            "SEAL_TSA_TRUST_ROOTS is not set: the timestamp authority's root certificates "
            "are needed to check its tokens."
        )
    return _certificates(Path(path))


@dataclass(frozen=True)
class TokenCheck:
    """What the authority's token says: whether its signature holds and chains to a
    trusted root, the digest it stamps, and when."""

    sound: bool
    imprint: bytes
    stamped_at: dt.datetime | None
    problem: str = ""


def check_token(token: bytes, message: bytes) -> TokenCheck:
    """Validate a timestamp token (pyHanko): its signature, its authority's certificate
    against ``tsa_trust_roots`` at the moment it was made, and its imprint against the
    sha256 of ``message``."""
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko.sign.validation.status import TimestampSignatureStatus
    from pyhanko_certvalidator import ValidationContext

    try:
        content = cms.ContentInfo.load(bytes(token))
        signed_data = content["content"]
        tst_info = signed_data["encap_content_info"]["content"].parsed
        imprint = tst_info["message_imprint"]["hashed_message"].native
        stamped_at = tst_info["gen_time"].native
    except (ValueError, TypeError, KeyError) as exc:
        return TokenCheck(False, b"", None, f"le jeton n'est pas lisible ({exc})")
    try:
        roots = tsa_trust_roots()
    except SealUnavailable as exc:
        return TokenCheck(False, imprint, stamped_at, f"l'autorité n'est pas vérifiable : {exc}")
    context = ValidationContext(
        trust_roots=roots,
        allow_fetching=False,
        revocation_mode="soft-fail",
        moment=stamped_at,
    )

    def expected(algorithm: str) -> bytes:
        return hashlib.new(algorithm, message).digest()

    try:
        status = TimestampSignatureStatus(
            **asyncio.run(validate_tst_signed_data(signed_data, context, expected))
        )
    except Exception as exc:  # pyHanko refuses a malformed or tampered token
        return TokenCheck(False, imprint, stamped_at, f"le jeton est invalide ({exc})")
    if not (status.intact and status.valid):
        return TokenCheck(
            False, imprint, stamped_at, "la signature de l'autorité ne correspond plus au jeton"
        )
    if not status.trusted:
        return TokenCheck(
            False, imprint, stamped_at, "le jeton n'est pas signé par l'autorité de confiance"
        )
    return TokenCheck(True, imprint, stamped_at)


def heads_by_day(days: list[dt.date]) -> dict[dt.date, list[list[Any]]]:
    """``day_heads`` of several days, read in one pass over their events (``verify_audit``
    checks every stamped day)."""
    if not days:
        return {}
    wanted = set(days)
    start, _ = _day_bounds(min(days))
    _, end = _day_bounds(max(days))
    zone = timezone.get_default_timezone()
    last: dict[dt.date, dict[int, tuple[int, str]]] = {day: {} for day in days}
    for letter_id, sequence, digest, created_at in (
        AuditEvent.objects.filter(created_at__gte=start, created_at__lt=end)
        .order_by()
        .values_list("letter_id", "sequence", "hash", "created_at")
        .iterator(chunk_size=5000)
    ):
        day = created_at.astimezone(zone).date()
        if day not in wanted:
            continue
        heads = last[day]
        if letter_id not in heads or heads[letter_id][0] < sequence:
            heads[letter_id] = (sequence, digest)
    return {
        day: [[letter, sequence, digest] for letter, (sequence, digest) in sorted(heads.items())]
        for day, heads in last.items()
    }


def verify_day(stamp: AuditTimestamp, heads: list[list[Any]] | None = None) -> list[str]:
    """What no longer matches a day's timestamp (empty: all does): the heads of that
    day recomputed from the events as they stand (``heads``, when read already), each
    head event's hash from its content, the digest and the token's imprint, and the
    token's signature."""
    problems = []
    if heads is None:
        heads = day_heads(stamp.day)
    if heads != stamp.heads:
        problems.append(
            "les têtes des chaînes de ce jour ne sont plus celles horodatées : "
            "un événement de ce jour ou d'avant a été modifié, ajouté ou retiré"
        )
    events = {
        (event.letter_id, event.sequence): event
        for event in AuditEvent.objects.filter(
            letter_id__in=[head[0] for head in stamp.heads]
        ).filter(sequence__in=[head[1] for head in stamp.heads])
    }
    for letter_id, sequence, digest in stamp.heads:
        event = events.get((letter_id, sequence))
        if event is None:
            problems.append(f"lettre {letter_id}, événement n° {sequence} : il a disparu")
        elif event.hash != digest or event_hash(event) != digest:
            problems.append(
                f"lettre {letter_id}, événement n° {sequence} : son empreinte n'est plus "
                "celle horodatée"
            )
    message = heads_message(stamp.day, stamp.heads)
    if hashlib.sha256(message).hexdigest() != stamp.digest:
        problems.append("l'empreinte enregistrée n'est plus celle des têtes horodatées")
    token = check_token(bytes(stamp.token), message)
    if token.imprint and token.imprint.hex() != stamp.digest:
        problems.append("le jeton de l'autorité n'horodate pas cette empreinte")
    if token.problem:
        problems.append(token.problem)
    return problems


@dataclass(frozen=True)
class TimestampProblem:
    day: dt.date
    reason: str

    def __str__(self) -> str:
        return f"horodatage du {self.day.strftime('%d/%m/%Y')} : {self.reason}"


def verify_timestamps() -> list[TimestampProblem]:
    """Every day's timestamp checked (``verify_day``), oldest first."""
    stamps = list(AuditTimestamp.objects.order_by("day"))
    heads = heads_by_day([stamp.day for stamp in stamps])
    return [
        TimestampProblem(stamp.day, reason)
        for stamp in stamps
        for reason in verify_day(stamp, heads[stamp.day])
    ]
