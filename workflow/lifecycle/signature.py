"""Signature: the principal's side (the deputy by delegation) and every référent sign
the same version, the one they were shown; the last signature brings it into force."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.models import Role, User
from workflow.audit.versions import current_version
from workflow.errors import AlreadyDone, NotAwaited, SnapshotMismatch, Unmet
from workflow.lifecycle.payloads import PaperSignaturePayload, ShownVersionPayload
from workflow.lifecycle.spec import (
    Data,
    Form,
    Presentation,
    Recipients,
    TransitionSpec,
    Waiting,
    by_head,
    by_head_or_referent,
    require_shown_version,
    tell,
)
from workflow.models import (
    LetterState,
    MissionLetter,
    Signature,
    SignatureMethod,
    SignatureQuality,
)
from workflow.selectors.actors import Actor
from workflow.selectors.visibility import people_with_role, referent_users


def unsigned(signatures: Iterable[Signature], referents: list[int]) -> tuple[bool, list[int]]:
    """Who has still to sign a version, given its ``signatures`` and the référents' user
    ids in order: whether the principal's side has, and the référents who have not."""
    signatures = list(signatures)
    signed = {s.signer_id for s in signatures}
    head_signed = any(s.quality != SignatureQuality.REFERENT for s in signatures)
    return not head_signed, [user for user in referents if user not in signed]


@dataclass(frozen=True)
class SignatureSheet:
    """The signatures of a letter's current version as its page shows them: those given
    (each keeps the signer's name and quality as they signed) and the names of whoever
    has still to sign."""

    given: list[Signature]
    awaited: list[str]


def signature_sheet(letter: MissionLetter) -> SignatureSheet:
    given = list(
        Signature.objects.filter(letter=letter, version=letter.version).order_by("signed_at")
    )
    referents = list(letter.referents.select_related("user").order_by("order", "pk"))
    head_missing, missing = unsigned(given, [r.user_id for r in referents])
    awaited = [r.user.get_full_name() or r.user.username for r in referents if r.user_id in missing]
    if head_missing:
        heads = [
            user.get_full_name() or user.username
            for user in people_with_role(letter, Role.PRINCIPAL)
        ]
        awaited.insert(
            0,
            _("%(names)s, chef d'établissement (ou son adjoint par délégation)")
            % {"names": ", ".join(heads) or _("le chef d'établissement")},
        )
    return SignatureSheet(given, awaited)


def _awaited_signers(waiting: Waiting) -> list[int]:
    head_missing, referents = unsigned(
        waiting.signatures, [user for user, _agreed in waiting.referents]
    )
    return (waiting.holders(Role.PRINCIPAL) if head_missing else []) + referents


def _guard_sign(letter: MissionLetter, actor: Actor) -> list[Unmet]:
    """A person signs a version once, and the principal's side signs it once."""
    if actor.user is None:
        return []
    signatures = Signature.objects.filter(letter=letter, version=letter.version)
    if signatures.filter(signer=actor.user).exists():
        return [Unmet("already_signed", _("Vous avez déjà signé cette version."), done=True)]
    if (
        actor.acts_for_principal
        and not actor.is_referent
        and signatures.exclude(quality=SignatureQuality.REFERENT).exists()
    ):
        return [
            Unmet(
                "already_signed",
                _("La signature du chef d'établissement est déjà donnée."),
                done=True,
            )
        ]
    return []


def _perform_sign(letter: MissionLetter, actor: Actor, data: Data) -> Data:
    """Sign the exact version shown (its sha256). The letter comes into force with the
    last required signature: the principal's (or the deputy's by delegation) and every
    référent's, all on the same version."""
    assert actor.user is not None
    current = require_shown_version(
        letter,
        data,
        _(
            "La lettre a changé depuis qu'elle vous a été présentée : relisez la version "
            "%(version)s avant de signer."
        ),
    )
    # Signing twice is refused by _guard_sign, under the same lock.
    signs_as_head = actor.acts_for_principal and not actor.is_referent
    quality = actor.head_quality if signs_as_head else SignatureQuality.REFERENT
    signature = Signature.objects.create(
        letter=letter,
        signer=actor.user,
        signer_name=actor.user.get_full_name() or actor.user.username,
        quality=quality,
        version=letter.version,
        snapshot_sha256=current,
        signed_at=timezone.now(),
    )
    head_missing, referents_missing = unsigned(
        Signature.objects.filter(letter=letter, version=letter.version),
        list(letter.referents.values_list("user_id", flat=True)),
    )
    letter.sign(last_signature=not head_missing and not referents_missing)
    return {
        "quality": quality,
        "version": letter.version,
        "snapshot_sha256": current,
        "signed_at": signature.signed_at.isoformat(),
    }


def _notify_sign(letter: MissionLetter) -> Recipients:
    """Once in force, every signatory (the last one too: ``tells_actor``), the
    principal and the référents are told. Before, the principal is told when her
    deputy has just signed for her, by delegation."""
    given = list(
        Signature.objects.filter(letter=letter, version=letter.version)
        .select_related("signer")
        .order_by("pk")
    )
    if letter.state == LetterState.IN_FORCE:
        return tell(
            people_with_role(letter, Role.PRINCIPAL)
            + referent_users(letter)
            + [signature.signer for signature in given],
            "letter_in_force",
        )
    if given and given[-1].quality == SignatureQuality.DEPUTY_BY_DELEGATION:
        return tell(people_with_role(letter, Role.PRINCIPAL), "letter_signed")
    return []


@dataclass(frozen=True)
class Signatory:
    """Someone the letter still awaits a signature from on its current version, and
    the quality they sign in."""

    user: User
    quality: str  # a SignatureQuality

    @property
    def name(self) -> str:
        return self.user.get_full_name() or self.user.username

    @property
    def label(self) -> str:
        return f"{self.name} — {SignatureQuality(self.quality).label}"


def paper_signatories(letter: MissionLetter) -> list[Signatory]:
    """Whom the principal's side may record as having signed the printed current
    version by hand: whoever the letter still awaits a signature from, as ``sign``
    counts them — the principal while the principal's side has not signed (a principal
    who is also a référent signs as référent, as in the application), then each
    référent who has not."""
    referents = list(letter.referents.select_related("user").order_by("order", "pk"))
    head_missing, missing = unsigned(
        Signature.objects.filter(letter=letter, version=letter.version),
        [r.user_id for r in referents],
    )
    referent_ids = {r.user_id for r in referents}
    heads = (
        [
            Signatory(user, SignatureQuality.PRINCIPAL)
            for user in people_with_role(letter, Role.PRINCIPAL)
            if user.pk not in referent_ids
        ]
        if head_missing
        else []
    )
    return heads + [
        Signatory(r.user, SignatureQuality.REFERENT) for r in referents if r.user_id in missing
    ]


def _signatory(letter: MissionLetter, signer_id: int) -> Signatory:
    """The signatory named by the payload, who must still be awaited on this version;
    else why not: they have signed it already (``AlreadyDone``), the principal's side
    has (``AlreadyDone``), or the letter does not wait for them (``NotAwaited``)."""
    awaited = next((s for s in paper_signatories(letter) if s.user.pk == signer_id), None)
    if awaited is not None:
        return awaited
    person = User.objects.filter(pk=signer_id).first()
    name = (person.get_full_name() or person.username) if person else ""
    version = {"name": name, "version": letter.version}
    signatures = Signature.objects.filter(letter=letter, version=letter.version)
    if person is not None and signatures.filter(signer=person).exists():
        refusal = _("%(name)s a déjà signé la version %(version)s.") % version
        raise AlreadyDone([Unmet("already_signed", refusal, done=True)])
    is_head = person is not None and person in people_with_role(letter, Role.PRINCIPAL)
    if is_head and signatures.exclude(quality=SignatureQuality.REFERENT).exists():
        refusal = _("La signature du chef d'établissement est déjà donnée.")
        raise AlreadyDone([Unmet("already_signed", refusal, done=True)])
    if person is None:
        raise NotAwaited(_("Ce signataire est inconnu."))
    raise NotAwaited(
        _("La lettre n'attend pas de signature de %(name)s sur la version %(version)s.") % version
    )


def _perform_record_paper_signature(letter: MissionLetter, actor: Actor, data: Data) -> Data:
    """Record that a signatory still awaited signed the printed current version by
    hand, with the scan of the signed paper (stored with its sha256). It counts like a
    signature given in the application: the last one brings the letter into force."""
    assert actor.user is not None
    shown = data.get("version") or letter.version
    if shown != letter.version:
        raise SnapshotMismatch(
            _(
                "La lettre en est à la version %(current)s : seule la version %(current)s "
                "imprimée peut être enregistrée comme signée, pas la version %(shown)s."
            )
            % {"current": letter.version, "shown": shown}
        )
    signatory = _signatory(letter, data["signer"])
    scan = data["scan"]
    digest = hashlib.sha256()
    for chunk in scan.chunks():
        digest.update(chunk)
    scan.seek(0)
    signature = Signature(
        letter=letter,
        signer=signatory.user,
        signer_name=signatory.name,
        quality=signatory.quality,
        version=letter.version,
        snapshot_sha256=current_version(letter).content_sha256,
        signed_at=timezone.now(),
        method=SignatureMethod.PAPER,
        scan_sha256=digest.hexdigest(),
        recorded_by=actor.user,
    )
    signature.scan.save(
        f"lettre-{letter.pk}-v{letter.version}-{signatory.user.pk}.pdf", scan, save=False
    )
    signature.save()
    head_missing, referents_missing = unsigned(
        Signature.objects.filter(letter=letter, version=letter.version),
        list(letter.referents.values_list("user_id", flat=True)),
    )
    letter.record_paper_signature(last_signature=not head_missing and not referents_missing)
    return {
        "signer": signatory.user.username,
        "signer_name": signature.signer_name,
        "quality": signature.quality,
        "method": SignatureMethod.PAPER.value,
        "version": letter.version,
        "snapshot_sha256": signature.snapshot_sha256,
        "scan_sha256": signature.scan_sha256,
        "signed_at": signature.signed_at.isoformat(),
    }


SPECS = [
    TransitionSpec(
        "sign",
        gettext_lazy("Signer"),
        by_head_or_referent,
        _perform_sign,
        payload=ShownVersionPayload,
        guard=_guard_sign,
        notify=_notify_sign,
        tells_actor=frozenset({"letter_in_force"}),
        awaits=_awaited_signers,
        form=Form.SIGN,
        done=gettext_lazy(
            "Signature enregistrée sur la version %(version)s. "
            "La lettre est à l'étape « %(state)s »."
        ),
    ),
    TransitionSpec(
        "record_paper_signature",
        gettext_lazy("Enregistrer une signature manuscrite"),
        by_head,
        _perform_record_paper_signature,
        payload=PaperSignaturePayload,
        notify=_notify_sign,
        tells_actor=frozenset({"letter_in_force"}),
        presentation=Presentation.SECONDARY,
        form=Form.PAPER,
        done=gettext_lazy(
            "Signature manuscrite enregistrée sur la version %(version)s, avec son scan. "
            "La lettre est à l'étape « %(state)s »."
        ),
    ),
]
