"""Reads for the sealed letters and the public check (``/verifier/``).

The public check shows, to anyone, only what identifies a signed letter and its
signatures: the establishment, the year, the version, who signed in what quality, when
and how, the seal's date and the sealed file's sha256. Nothing else of the letter
(no amounts, no missions, no e-mail address) leaves through it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from workflow.models import MissionLetter, SealedLetter, Signature, SignatureMethod


def latest_seal(letter: MissionLetter) -> SealedLetter | None:
    """The letter's most recent sealed version, if any."""
    return SealedLetter.objects.filter(letter=letter).order_by("-version").first()


def seal_by_token(token: str) -> SealedLetter | None:
    return (
        SealedLetter.objects.select_related("letter__establishment", "letter__school_year")
        .filter(token=token)
        .first()
    )


def seal_by_sha256(sha256: str) -> SealedLetter | None:
    return (
        SealedLetter.objects.select_related("letter__establishment", "letter__school_year")
        .filter(sha256=sha256)
        .first()
    )


@dataclass(frozen=True)
class PublicSignature:
    name: str
    quality: str
    signed_at: dt.datetime
    on_paper: bool


@dataclass(frozen=True)
class PublicFacts:
    """What the public check says about a sealed letter."""

    token: str
    establishment: str
    uai: str
    school_year: str
    version: int
    signatures: list[PublicSignature]
    sealed_at: dt.datetime
    sha256: str
    level: str


def public_facts(sealed: SealedLetter) -> PublicFacts:
    letter = sealed.letter
    signatures = Signature.objects.filter(letter=letter, version=sealed.version).order_by(
        "signed_at", "pk"
    )
    return PublicFacts(
        token=sealed.token,
        establishment=letter.establishment.name,
        uai=letter.establishment.uai,
        school_year=letter.school_year.code,
        version=sealed.version,
        signatures=[
            PublicSignature(
                name=s.signer_name,
                quality=s.get_quality_display(),
                signed_at=s.signed_at,
                on_paper=s.method == SignatureMethod.PAPER,
            )
            for s in signatures
        ],
        sealed_at=sealed.sealed_at,
        sha256=sealed.sha256,
        level=sealed.level,
    )
