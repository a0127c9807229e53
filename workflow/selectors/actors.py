"""Who is acting on a letter, and in what quality.

An ``Actor`` gathers, for one person and one letter, what the rules need: their roles
in the letter's establishment, whether they are one of its référents, and whether they
act for the principal (the principal, or a deputy under an active delegation: "pour le
chef d'établissement et par délégation"). ``SYSTEM`` is the scheduler (beat).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import Delegation, Role, RoleAssignment, User
from governance.selectors import HeldRole, active_delegation
from workflow.models import LetterReferent, MissionLetter, SignatureQuality

# Staff who see every letter of their establishment.
ESTABLISHMENT_READERS = frozenset(
    {Role.PRINCIPAL, Role.DEPUTY, Role.CP_SECRETARY, Role.CA_SECRETARY}
)


@dataclass(frozen=True)
class Actor:
    user: User | None
    roles: frozenset[str]
    referent: LetterReferent | None = None
    delegation: Delegation | None = None
    is_superuser: bool = False

    @property
    def is_system(self) -> bool:
        return self.user is None

    @property
    def is_principal(self) -> bool:
        return Role.PRINCIPAL in self.roles

    @property
    def acts_for_principal(self) -> bool:
        """The principal, or a deputy while a delegation is active."""
        return self.is_principal or self.delegation is not None

    @property
    def head_quality(self) -> str:
        if self.is_principal:
            return SignatureQuality.PRINCIPAL
        return SignatureQuality.DEPUTY_BY_DELEGATION

    @property
    def is_referent(self) -> bool:
        return self.referent is not None

    @property
    def is_dan(self) -> bool:
        return Role.DAN in self.roles

    @property
    def is_national(self) -> bool:
        """The national role: it reads every letter and fires no transition (no
        ``who`` of the lifecycle names it), so its writes are refused, as the DAN's."""
        return Role.NATIONAL in self.roles

    @property
    def can_see(self) -> bool:
        return (
            self.is_system
            or self.is_superuser
            or self.is_referent
            or self.is_dan
            or self.is_national
            or bool(self.roles & ESTABLISHMENT_READERS)
        )

    @property
    def label(self) -> str:
        if self.user is None:
            return _("Système (échéancier)")
        return self.user.get_full_name() or self.user.username

    def quality_label(self) -> str:
        """How the person acts, as the audit trail and the PDF say it."""
        if self.user is None:
            return "system"
        if self.is_principal:
            return "principal"
        if self.delegation is not None:
            return "deputy_by_delegation"
        if self.is_referent:
            return "referent"
        for role in (Role.CP_SECRETARY, Role.CA_SECRETARY, Role.DAN):
            if role in self.roles:
                return str(role)
        return ""


SYSTEM = Actor(user=None, roles=frozenset())


def _referent_rows(user: User, letter_ids: Sequence[int]) -> list[LetterReferent]:
    """The rows naming ``user`` référent of the letters ``letter_ids``, as instances (an
    agreement saves them)."""
    return list(LetterReferent.objects.filter(user=user, letter_id__in=set(letter_ids)))


def actor_for(user: User, letter: MissionLetter) -> Actor:
    """What ``user`` is with respect to ``letter``, today."""
    return actors_for(user, [letter])[0]


def actors_for(
    user: User,
    letters: Sequence[MissionLetter],
    assignments: Sequence[HeldRole] | None = None,
) -> list[Actor]:
    """What ``user`` is with respect to each of ``letters``, today, in order: their roles
    and the référent rows naming them are read once for all the letters (the À faire
    page asks this of every letter it lists), the delegation once per establishment.
    ``assignments`` are the person's roles when the caller has read them already."""
    held = (
        [(a.role, a.establishment_id, a.academy_id) for a in assignments]
        if assignments is not None
        else list(
            RoleAssignment.objects.filter(user=user).values_list(
                "role", "establishment_id", "academy_id"
            )
        )
    )
    saved = [letter.pk for letter in letters if letter.pk is not None]
    referents = {r.letter_id: r for r in _referent_rows(user, saved)} if saved else {}
    delegations: dict[int, Delegation | None] = {}
    actors = []
    for letter in letters:
        roles = frozenset(
            role
            for role, establishment_id, academy_id in held
            if establishment_id == letter.establishment_id
            or (role == Role.DAN and academy_id == letter.establishment.academy_id)
            or role == Role.NATIONAL
        )
        delegation = None
        if Role.DEPUTY in roles and Role.PRINCIPAL not in roles:
            if letter.establishment_id not in delegations:
                delegations[letter.establishment_id] = active_delegation(
                    user, letter.establishment, timezone.localdate()
                )
            delegation = delegations[letter.establishment_id]
        actors.append(
            Actor(
                user=user,
                roles=roles,
                referent=referents.get(letter.pk) if letter.pk is not None else None,
                delegation=delegation,
                is_superuser=user.is_superuser,
            )
        )
    return actors
