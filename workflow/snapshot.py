"""The canonical snapshot of a letter and its sha256.

Two snapshots:
- the **content** snapshot: what the letter says (parties, period, recognition,
  missions, indicators, means, follow-up) and its version. This is what a signer is
  shown and signs; its hash is the API's ``snapshot_sha256``. It does not move with
  the state, agreements or signatures, so a signature stays valid while others sign;
- the **full** snapshot kept with each audit event: the content plus the state,
  agreements, opinions, signatures and report, so that history shows the letter as it
  stood at every step.

Canonical JSON: sorted keys, no spaces, UTF-8, decimals as strings with two places.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from workflow.models import (
    LetterMission,
    LetterReferent,
    MissionLetter,
    Opinion,
    Signature,
    YearEndReport,
)


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _ordered(items: Any) -> list[Any]:
    return sorted(items, key=lambda row: (row.order, row.pk))


def referent_entry(referent: LetterReferent) -> dict[str, Any]:
    """A référent as the content snapshot records it (``bench_data`` builds the same
    rows without the database, so both call these entry functions)."""
    return {
        "username": referent.user.username,
        "name": referent.user.get_full_name(),
        "discipline": referent.user.discipline,
        "mode": referent.mode,
        "imp_amount": _money(referent.imp_amount),
        "decharge_hours": _money(referent.decharge_hours),
        "share": referent.share,
    }


def mission_entry(mission: LetterMission, carried_by: Iterable[LetterReferent]) -> dict[str, Any]:
    """A mission as the content snapshot records it, with the référents carrying it."""
    item = mission.catalog_item
    return {
        "catalog_item": item.code if item else None,
        "heading": item.heading.title if item else None,
        "outside_scope": bool(item and item.outside_scope),
        "text": mission.text,
        "priority": mission.priority,
        "referents": sorted(r.user.username for r in carried_by),
    }


def content_snapshot(letter: MissionLetter) -> dict[str, Any]:
    """Reads relations through ``.all()`` so that a caller may prefetch them
    (``workflow.selectors.LETTER_PREFETCHES``) and build many snapshots in a few queries."""
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
        "referents": [referent_entry(r) for r in _ordered(letter.referents.all())],
        "missions": [mission_entry(m, m.referents.all()) for m in _ordered(letter.missions.all())],
        "indicators": [
            {"text": i.text, "target": i.target} for i in _ordered(letter.indicators.all())
        ],
        "means": sorted(letter.means),
        "means_other": letter.means_other,
        "follow_up": letter.follow_up,
        "qualification": letter.qualification,
        "dane_training": letter.dane_training,
    }


def content_sha256(letter: MissionLetter) -> str:
    return sha256_hex(canonical_json(content_snapshot(letter)))


def agreement_entry(referent: LetterReferent) -> dict[str, Any]:
    """A référent's agreement as the full snapshot records it (``bench_data`` builds
    the same rows without the database, so both call these)."""
    return {"username": referent.user.username, "agreed_version": referent.agreed_version}


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
    """A signature as the full snapshot records it."""
    return {
        "username": signature.signer.username,
        "name": signature.signer.get_full_name(),
        "quality": signature.quality,
        "version": signature.version,
        "snapshot_sha256": signature.snapshot_sha256,
        "signed_at": signature.signed_at.isoformat(),
    }


def full_snapshot(letter: MissionLetter) -> dict[str, Any]:
    content = content_snapshot(letter)
    report = YearEndReport.objects.filter(letter=letter).first()
    return {
        "state": letter.state,
        "content": content,
        "content_sha256": sha256_hex(canonical_json(content)),
        "agreements": [
            agreement_entry(r)
            for r in letter.referents.select_related("user").order_by("order", "id")
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
