"""Signature: the principal's side (the deputy by delegation) and every référent sign
the same version, the one they were shown; the last signature brings it into force."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.models import Role
from workflow.errors import Unmet
from workflow.lifecycle.payloads import ShownVersionPayload
from workflow.lifecycle.spec import (
    Data,
    Form,
    Recipients,
    TransitionSpec,
    Waiting,
    by_head_or_referent,
    require_shown_version,
    tell,
)
from workflow.models import LetterState, MissionLetter, Signature, SignatureQuality
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
]
