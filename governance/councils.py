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


def votes_required(council: str) -> bool:
    """Whether the council's opinion comes with its attendance and votes (the CA votes;
    the conseil pédagogique may record them, DESIGN §4)."""
    return council == BOARD


def vote_errors(council: str, count: VoteCount) -> dict[str, str]:
    """Field → French message for every inconsistency in a recorded vote."""
    errors: dict[str, str] = {}
    votes = {
        "votes_for": count.votes_for,
        "votes_against": count.votes_against,
        "abstentions": count.abstentions,
        "not_voting": count.not_voting,
    }
    if votes_required(council):
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


def vote_contradiction(opinion: str, count: VoteCount) -> str | None:
    """A French explanation when the votes say the opposite of the ``opinion``
    recorded (« defavorable » with more votes for than against, « favorable » with
    more against than for); ``None`` when they agree or were not counted. A council
    may still decide so (the votes were on an amendment, say): the caller asks the
    secretary to confirm rather than refusing outright."""
    if count.votes_for is None or count.votes_against is None:
        return None
    if opinion == "defavorable" and count.votes_for > count.votes_against:
        majority = _("une majorité de voix pour")
    elif opinion == "favorable" and count.votes_against > count.votes_for:
        majority = _("une majorité de voix contre")
    else:
        return None
    return _(
        "L'avis saisi contredit les votes : %(majority)s (%(for)s pour, %(against)s "
        "contre). Vérifiez l'avis ou les nombres, ou confirmez que c'est bien ce que le "
        "conseil a décidé."
    ) % {"majority": majority, "for": count.votes_for, "against": count.votes_against}
