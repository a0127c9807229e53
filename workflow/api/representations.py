"""A letter as the API shows it (DESIGN §7), read from its stored version.

Every read of letters goes through ``letter_representations``: the DAN's page of fifty,
a letter's detail, the letters a transition or a meeting's opinions return.
``LetterSerializer`` declares the shape; this builds it for a whole page at once (a
test feeds every representation back through the declared fields to check that both
agree).

What the letter says (référents with their names, missions, indicators, period, means,
follow-up) is its current version's content as stored (``workflow.versions``), so a
letter reads as it was given, whatever was renamed since. Made for each read: the
state's label in the reader's language, the warnings (the envelope they judge is filled
by the establishment's other letters of the year), and what the live rows add: each
référent's agreement, and the identifiers of the missions and indicators a client
edits, which are those of the current version's rows, in its order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workflow.api.serializers import LetterSerializer
from workflow.audit.versions import current_contents
from workflow.errors import Unmet
from workflow.models import (
    LetterIndicator,
    LetterMission,
    LetterReferent,
    LetterState,
    MissionLetter,
)
from workflow.selectors.envelope import (
    content_warnings,
    envelope_warnings,
    envelopes_for,
    scope_notes,
)

_MOMENT = LetterSerializer().fields["created_at"]


def _warnings(found: list[Unmet]) -> list[dict[str, str]]:
    return [{"code": w.code, "detail": w.message} for w in found]


def letter_representations(letters: Sequence[MissionLetter]) -> list[dict[str, Any]]:
    """``letters`` (read with their establishment and school year) as the API shows them,
    in order, in six queries whatever their number."""
    if not letters:
        return []
    ids = [letter.pk for letter in letters]
    versions = current_contents(ids)
    agreed = {
        (letter_id, username): version
        for letter_id, username, version in LetterReferent.objects.filter(
            letter_id__in=ids
        ).values_list("letter_id", "user__username", "agreed_version")
    }
    missions: dict[int, list[tuple[int, int | None]]] = {pk: [] for pk in ids}
    for letter_id, pk, item in LetterMission.objects.filter(letter_id__in=ids).values_list(
        "letter_id", "id", "catalog_item_id"
    ):
        missions[letter_id].append((pk, item))
    indicators: dict[int, list[int]] = {pk: [] for pk in ids}
    for letter_id, pk in LetterIndicator.objects.filter(letter_id__in=ids).values_list(
        "letter_id", "id"
    ):
        indicators[letter_id].append(pk)
    notes = scope_notes(version.content for version in versions.values())
    # An envelope's warnings are judged once per establishment's year, not per letter.
    envelopes = {
        pair: _warnings(envelope_warnings(envelope))
        for pair, envelope in envelopes_for(
            {(letter.establishment_id, letter.school_year_id) for letter in letters}
        ).items()
    }
    labels = {
        state: str(LetterState(state).label) for state in {letter.state for letter in letters}
    }
    represented = []
    for letter in letters:
        version = versions[letter.pk]
        content = version.content
        mission_rows = missions[letter.pk]
        indicator_rows = indicators[letter.pk]
        represented.append(
            {
                "id": letter.pk,
                "establishment": letter.establishment.uai,
                "school_year": letter.school_year.code,
                "state": letter.state,
                "state_label": labels[letter.state],
                "version": letter.version,
                "period_kind": content["period"]["kind"],
                "period_start": content["period"]["start"],
                "period_end": content["period"]["end"],
                "referents": [
                    {
                        "user": r["username"],
                        "name": r["name"],
                        "mode": r["mode"],
                        "imp_amount": r["imp_amount"],
                        "decharge_hours": r["decharge_hours"],
                        "share": r["share"],
                        "agreed_version": agreed.get((letter.pk, r["username"])),
                    }
                    for r in content["referents"]
                ],
                "missions": [
                    {
                        "id": mission_rows[i][0] if i < len(mission_rows) else None,
                        "catalog_item": mission_rows[i][1] if i < len(mission_rows) else None,
                        "text": m["text"],
                        "priority": m["priority"],
                        "referents": m["referents"],
                        "outside_scope": m["outside_scope"],
                    }
                    for i, m in enumerate(content["missions"])
                ],
                "indicators": [
                    {
                        "id": indicator_rows[i] if i < len(indicator_rows) else None,
                        "text": indicator["text"],
                        "target": indicator["target"],
                    }
                    for i, indicator in enumerate(content["indicators"])
                ],
                "means": content["means"],
                "means_other": content["means_other"],
                "follow_up": content["follow_up"],
                "qualification": content["qualification"],
                "dane_training": content["dane_training"],
                "renewed_from": letter.renewed_from_id,
                "warnings": [
                    *envelopes[(letter.establishment_id, letter.school_year_id)],
                    *_warnings(content_warnings(content, notes)),
                ],
                "snapshot_sha256": version.content_sha256,
                "created_at": _MOMENT.to_representation(letter.created_at),
                "updated_at": _MOMENT.to_representation(letter.updated_at),
            }
        )
    return represented
