"""The rules of the two councils that give their opinion on a letter, as plain functions.

- Conseil pédagogique (L421-5, R421-41-1 ff.): consultative, no quorum rule.
- Conseil d'administration (R421-25): a valid deliberation needs a majority of the
  members in office present at the opening; failing that, it is reconvened and the
  second convocation deliberates without quorum. Votes are recorded as for, against,
  abstention and "ne prend pas part au vote". (shared/notes/domain.md §4)
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

PEDAGOGICAL = "pedagogical"
BOARD = "board"


@dataclass(frozen=True)
class VoteCount:
    members_in_office: int
    members_present: int | None
    votes_for: int | None = None
    votes_against: int | None = None
    abstentions: int | None = None
    not_voting: int | None = None


def quorum_met(
    council: str, members_in_office: int, members_present: int, convocation: int
) -> bool:
    """Whether the council could deliberate. The conseil pédagogique has no quorum rule;
    the CA needs a majority of its members in office, except on second convocation."""
    if council == PEDAGOGICAL or convocation >= 2:
        return True
    return members_present * 2 > members_in_office


def vote_errors(council: str, count: VoteCount) -> dict[str, str]:
    """Field → French message for every inconsistency in a recorded vote."""
    errors: dict[str, str] = {}
    votes = {
        "votes_for": count.votes_for,
        "votes_against": count.votes_against,
        "abstentions": count.abstentions,
        "not_voting": count.not_voting,
    }
    if council == BOARD:
        if count.members_present is None:
            errors["members_present"] = _("Indiquez le nombre de membres présents.")
        for field, value in votes.items():
            if value is None:
                errors[field] = _("Le conseil d'administration vote : indiquez ce nombre.")
    for field, value in [*votes.items(), ("members_present", count.members_present)]:
        if value is not None and value < 0:
            errors[field] = _("Ce nombre ne peut pas être négatif.")
    if errors:
        return errors
    present = count.members_present
    if present is not None and present > count.members_in_office:
        errors["members_present"] = _(
            "Il y a plus de membres présents (%(present)s) que de membres en exercice (%(office)s)."
        ) % {"present": present, "office": count.members_in_office}
    cast = sum(v for v in votes.values() if v is not None)
    if present is not None and cast > present:
        errors["votes_for"] = _(
            "Les voix (%(cast)s : pour, contre, abstentions et refus de vote) dépassent le "
            "nombre de membres présents (%(present)s)."
        ) % {"cast": cast, "present": present}
    return errors
