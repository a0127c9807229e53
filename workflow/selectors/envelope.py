"""An establishment's IMP envelope for a school year (DESIGN §5), and the warnings a
letter carries without being blocked by them: the envelope out of its bounds, a mission
outside the référent's remit.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from governance.imp import check_envelope, envelope_weight
from governance.models import (
    CatalogItem,
    Establishment,
    SchoolYear,
)
from workflow.errors import Unmet
from workflow.models import LetterReferent, LetterState, MissionLetter


def envelope_amounts(
    establishment: Establishment,
    school_year: SchoolYear,
    *,
    excluding: MissionLetter | None = None,
) -> list[Decimal]:
    """Every référent's recognition, converted to euros, over the establishment's
    letters for the year (withdrawn letters do not count). ``excluding``: a letter left
    out, whose amounts the editor is changing."""
    referents = LetterReferent.objects.filter(
        letter__establishment=establishment, letter__school_year=school_year
    ).exclude(letter__state=LetterState.WITHDRAWN)
    if excluding is not None:
        referents = referents.exclude(letter=excluding)
    return [
        envelope_weight(imp, hours)
        for imp, hours in referents.values_list("imp_amount", "decharge_hours")
    ]


def envelopes_for(
    pairs: Collection[tuple[int, int]],
) -> dict[tuple[int, int], list[Decimal]]:
    """``envelope_amounts`` for every (establishment id, school year id) of ``pairs``, in
    one query: what a page of letters needs for its warnings."""
    result: dict[tuple[int, int], list[Decimal]] = {pair: [] for pair in pairs}
    if not pairs:
        return result
    # Establishments × years, then the pairs in Python: one OR per pair made a query
    # that took longer to compile than to run.
    rows = (
        LetterReferent.objects.filter(
            letter__establishment_id__in={e for e, _y in pairs},
            letter__school_year_id__in={y for _e, y in pairs},
        )
        .exclude(letter__state=LetterState.WITHDRAWN)
        .values_list(
            "letter__establishment_id", "letter__school_year_id", "imp_amount", "decharge_hours"
        )
    )
    for establishment_id, school_year_id, imp, hours in rows:
        if (establishment_id, school_year_id) in result:
            result[(establishment_id, school_year_id)].append(envelope_weight(imp, hours))
    return result


def envelope_warnings(envelope: list[Decimal]) -> list[Unmet]:
    """The warnings the envelope of an establishment's year makes: the same for every
    letter of that year."""
    return [Unmet(finding.code, finding.message) for finding in check_envelope(envelope)]


def scope_notes(contents: Iterable[dict[str, Any]]) -> dict[str, str]:
    """The catalogue's note on each item outside the référent's remit that the stored
    ``contents`` carry, by code, in one query (none when no mission is outside)."""
    codes = {
        mission["catalog_item"]
        for content in contents
        for mission in content["missions"]
        if mission["outside_scope"] and mission["catalog_item"]
    }
    if not codes:
        return {}
    return dict(CatalogItem.objects.filter(code__in=codes).values_list("code", "scope_note"))


def content_warnings(content: dict[str, Any], notes: dict[str, str]) -> list[Unmet]:
    """The warnings a version's stored ``content`` makes: each mission outside the
    référent's remit, with the catalogue's note on it (``scope_notes``). The message is
    translated only for a letter that has such a mission."""
    outside = [mission for mission in content["missions"] if mission["outside_scope"]]
    if not outside:
        return []
    message = _("« %(text)s » sort du périmètre technico-pédagogique du référent. %(note)s")
    return [
        Unmet(
            "mission_outside_scope",
            message % {"text": mission["text"], "note": notes.get(mission["catalog_item"], "")},
        )
        for mission in outside
    ]


def letter_warnings(letter: MissionLetter, content: dict[str, Any]) -> list[Unmet]:
    """What the principal should know of a letter but that blocks nothing (or not yet):
    its establishment's envelope for the year, and its stored ``content``."""
    return [
        *envelope_warnings(envelope_amounts(letter.establishment, letter.school_year)),
        *content_warnings(content, scope_notes([content])),
    ]
