"""The canonical snapshot of a letter and its sha256.

Two snapshots:
- the **content** snapshot: what the letter says (parties, period, recognition,
  missions, indicators, means, follow-up) and its version. This is what a signer is
  shown and signs; its hash is the API's ``snapshot_sha256``. It does not move with
  the state, agreements or signatures, so a signature stays valid while others sign;
- the **full** snapshot kept with each audit event: the content plus the state,
  agreements, opinions, signatures and report, so that history shows the letter as it
  stood at every step.

The content snapshot is built from the letter's live rows only when a version is
written (``workflow.versions.write_version``) and by the guards of a draft; everything
that shows or checks a letter reads its stored version instead. The rows are read as
plain rows through the ORM (``LetterContent``, ``letter_contents``), three queries for
any number of letters. The one builder, ``content_snapshot``, works on those rows,
whoever read them: the versions, the guards, and ``bench_data`` (which makes them
without the database).

Canonical JSON: sorted keys, no spaces, UTF-8, decimals as strings with two places.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from workflow.models import (
    LetterIndicator,
    LetterMission,
    LetterReferent,
    LetterVersion,
    MissionLetter,
    Opinion,
    Signature,
    SignatureMethod,
    YearEndReport,
)


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def full_name(first_name: str, last_name: str) -> str:
    """``AbstractUser.get_full_name`` for a person read as a row."""
    return f"{first_name} {last_name}".strip()


@dataclass(frozen=True)
class ReferentRow:
    id: int
    username: str
    name: str
    discipline: str
    mode: str
    imp_amount: Decimal | None
    decharge_hours: Decimal | None
    share: str
    agreed_version: int | None


@dataclass(frozen=True)
class MissionRow:
    id: int
    catalog_item_id: int | None
    item_code: str | None
    heading: str | None
    outside_scope: bool
    scope_note: str
    text: str
    priority: str
    referents: tuple[str, ...]  # the usernames of the référents carrying it, sorted


@dataclass(frozen=True)
class IndicatorRow:
    id: int
    text: str
    target: str


@dataclass(frozen=True)
class LetterContent:
    """A letter's référents, missions and indicators, each in the letter's order."""

    referents: tuple[ReferentRow, ...] = ()
    missions: tuple[MissionRow, ...] = ()
    indicators: tuple[IndicatorRow, ...] = ()


def letter_contents(letter_ids: Collection[int]) -> dict[int, LetterContent]:
    """The content of every letter of ``letter_ids`` (a letter without référents,
    missions or indicators gets an empty one), in three queries whatever their number:
    the référents with their person, the missions with their catalogue item, heading
    and carriers, and the indicators, each in its letter's order."""
    ids = sorted(set(letter_ids))
    if not ids:
        return {}
    referents: dict[int, list[ReferentRow]] = {i: [] for i in ids}
    for letter_id, pk, username, first, last, discipline, mode, imp, hours, share, agreed in (
        LetterReferent.objects.filter(letter_id__in=ids)
        .order_by("letter_id", "order", "id")
        .values_list(
            "letter_id",
            "id",
            "user__username",
            "user__first_name",
            "user__last_name",
            "user__discipline",
            "mode",
            "imp_amount",
            "decharge_hours",
            "share",
            "agreed_version",
        )
    ):
        referents[letter_id].append(
            ReferentRow(
                pk, username, full_name(first, last), discipline, mode, imp, hours, share, agreed
            )
        )
    # One row per mission and référent carrying it (a mission nobody carries comes once,
    # with None): the carriers come with the missions, in the same query.
    found: dict[int, tuple[Any, ...]] = {}  # mission id → its row, in the letters' order
    carriers: dict[int, list[str]] = {}
    for row in (
        LetterMission.objects.filter(letter_id__in=ids)
        .order_by("letter_id", "order", "id")
        .values_list(
            "letter_id",
            "id",
            "catalog_item_id",
            "catalog_item__code",
            "catalog_item__heading__title",
            "catalog_item__outside_scope",
            "catalog_item__scope_note",
            "text",
            "priority",
            "referents__user__username",
        )
    ):
        mission_id, carrier = row[1], row[-1]
        found.setdefault(mission_id, row[:-1])
        if carrier is not None:
            carriers.setdefault(mission_id, []).append(carrier)
    missions: dict[int, list[MissionRow]] = {i: [] for i in ids}
    for letter_id, pk, item_id, code, heading, outside, note, text, priority in found.values():
        missions[letter_id].append(
            MissionRow(
                pk,
                item_id,
                code,
                heading,
                bool(outside),
                note or "",
                text,
                priority,
                tuple(sorted(carriers.get(pk, ()))),
            )
        )
    indicators: dict[int, list[IndicatorRow]] = {i: [] for i in ids}
    for letter_id, pk, text, target in (
        LetterIndicator.objects.filter(letter_id__in=ids)
        .order_by("letter_id", "order", "id")
        .values_list("letter_id", "id", "text", "target")
    ):
        indicators[letter_id].append(IndicatorRow(pk, text, target))
    return {
        i: LetterContent(tuple(referents[i]), tuple(missions[i]), tuple(indicators[i])) for i in ids
    }


def referent_entry(referent: ReferentRow) -> dict[str, Any]:
    """A référent as the content snapshot records it."""
    return {
        "username": referent.username,
        "name": referent.name,
        "discipline": referent.discipline,
        "mode": referent.mode,
        "imp_amount": _money(referent.imp_amount),
        "decharge_hours": _money(referent.decharge_hours),
        "share": referent.share,
    }


def mission_entry(mission: MissionRow) -> dict[str, Any]:
    """A mission as the content snapshot records it, with the référents carrying it."""
    return {
        "catalog_item": mission.item_code,
        "heading": mission.heading,
        "outside_scope": mission.outside_scope,
        "text": mission.text,
        "priority": mission.priority,
        "referents": list(mission.referents),
    }


def content_snapshot(letter: MissionLetter, content: LetterContent | None = None) -> dict[str, Any]:
    """What the letter's live rows say. The letter's own fields are read from ``letter``
    (with its establishment and school year), as it stands in memory: ``update_letter``
    compares the snapshot before and after changing them. ``content`` is read from the
    database unless given (``letter_contents``, which reads many letters' at once)."""
    if content is None:
        content = letter_contents([letter.pk])[letter.pk]
    return {
        "letter": letter.pk,
        "establishment": {"uai": letter.establishment.uai, "name": letter.establishment.name},
        "school_year": letter.school_year.code,
        "version": letter.version,
        "period": {
            "kind": letter.period_kind,
            "start": letter.period_start.isoformat() if letter.period_start else None,
            "end": letter.period_end.isoformat() if letter.period_end else None,
        },
        "referents": [referent_entry(r) for r in content.referents],
        "missions": [mission_entry(m) for m in content.missions],
        "indicators": [{"text": i.text, "target": i.target} for i in content.indicators],
        "means": sorted(letter.means),
        "means_other": letter.means_other,
        "follow_up": letter.follow_up,
        "qualification": letter.qualification,
        "dane_training": letter.dane_training,
    }


def content_sha256(letter: MissionLetter, content: LetterContent | None = None) -> str:
    """The hash of what the letter's live rows say now: how an edit finds whether it
    changed anything. What a person is shown and signs is the stored version's
    (``workflow.versions``)."""
    return sha256_hex(canonical_json(content_snapshot(letter, content)))


def agreement_entry(username: str, agreed_version: int | None) -> dict[str, Any]:
    """A référent's agreement as the full snapshot records it (``bench_data`` builds
    the same rows without the database, so both call these)."""
    return {"username": username, "agreed_version": agreed_version}


def opinion_entry(opinion: Opinion) -> dict[str, Any]:
    """A council's opinion as the full snapshot records it."""
    return {
        "council": opinion.council,
        "meeting": opinion.meeting_id,
        "version": opinion.version,
        "opinion": opinion.opinion,
        "votes_for": opinion.votes_for,
        "votes_against": opinion.votes_against,
        "abstentions": opinion.abstentions,
        "not_voting": opinion.not_voting,
        "members_present": opinion.members_present,
        "quorum_met": opinion.quorum_met,
        "remarks": opinion.remarks,
    }


def signature_entry(signature: Signature) -> dict[str, Any]:
    """A signature as the full snapshot records it: how it was given too (in the
    application, or by hand on the printed letter, with the sha256 of its scan)."""
    entry = {
        "username": signature.signer.username,
        "name": signature.signer_name,
        "quality": signature.quality,
        "version": signature.version,
        "snapshot_sha256": signature.snapshot_sha256,
        "signed_at": signature.signed_at.isoformat(),
        "method": signature.method,
    }
    if signature.method == SignatureMethod.PAPER:
        entry["scan_sha256"] = signature.scan_sha256
    return entry


def full_snapshot(letter: MissionLetter) -> dict[str, Any]:
    """The letter as it stands at a step of its history: its current version's content
    as stored (``LetterVersion``, never the live rows), with the state, agreements,
    opinions, signatures and report."""
    version = LetterVersion.objects.get(letter=letter, number=letter.version)
    agreements = LetterReferent.objects.filter(letter=letter).order_by("order", "id")
    report = YearEndReport.objects.filter(letter=letter).first()
    return {
        "state": letter.state,
        "content": version.content,
        "content_sha256": version.content_sha256,
        "agreements": [
            agreement_entry(username, agreed)
            for username, agreed in agreements.values_list("user__username", "agreed_version")
        ],
        "opinions": [opinion_entry(o) for o in letter.opinions.order_by("recorded_at", "id")],
        "signatures": [
            signature_entry(s)
            for s in letter.signatures.select_related("signer").order_by("signed_at", "id")
        ],
        "report": None
        if report is None
        else {
            "difficulties": report.difficulties,
            "training_needs": report.training_needs,
            "proposals": report.proposals,
            "submitted_at": report.submitted_at.isoformat() if report.submitted_at else None,
            "outcomes": [
                {"mission": o.mission.text, "status": o.status, "comment": o.comment}
                for o in report.outcomes.select_related("mission")
            ],
            "results": [
                {"indicator": r.indicator.text, "result": r.result}
                for r in report.results.select_related("indicator")
            ],
        },
    }
