"""A letter's versions, as stored rows (``LetterVersion``): written once, read as stored.

``write_version`` is the one place a version is written. Every write to a letter's
content or state calls it in its own transaction, after saving the letter and before
its audit event, whose snapshot carries the version as stored. Reads (the API, the
pages, the PDFs, the audit snapshots, the signatures' and agreements' checks) take the
content from here, never from the live rows: a person, a catalogue item or an
establishment renamed later leaves every frozen version, and its hash, as it was.

``version_changes`` says what changed from one version to another, section by section,
in the reader's language: the API's diff, the letter page and the mail announcing a new
version show it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.imp import recognition_label
from governance.models import MissionPriority, User
from workflow.audit.snapshot import canonical_json, content_snapshot, sha256_hex
from workflow.models import (
    FollowUp,
    LetterVersion,
    Means,
    MissionLetter,
    PeriodKind,
    choice_label,
)


def write_version(letter: MissionLetter, *, by: User | None, working: bool) -> LetterVersion:
    """Store what the letter says now (its live rows) as its version ``letter.version``.

    A version not stored yet is written. One already stored is rewritten only when
    ``working``: the letter was in draft before this write, so that version is still
    the principal's working copy (the write that takes it out of draft, such as
    ``open_concertation``, freezes it with the names as they stand then). Otherwise the
    stored version is left exactly as it was given. The caller holds the letter's lock."""
    stored = LetterVersion.objects.filter(letter=letter, number=letter.version).first()
    if stored is not None and not working:
        return stored
    content = content_snapshot(letter)
    digest = sha256_hex(canonical_json(content))
    if stored is None:
        return LetterVersion.objects.create(
            letter=letter,
            number=letter.version,
            content=content,
            content_sha256=digest,
            created_at=timezone.now(),
            created_by=by,
        )
    if stored.content_sha256 != digest:
        stored.content, stored.content_sha256 = content, digest
        stored.created_at, stored.created_by = timezone.now(), by
        stored.save(update_fields=["content", "content_sha256", "created_at", "created_by"])
    return stored


def current_version(letter: MissionLetter) -> LetterVersion:
    """The version the letter stands at."""
    return LetterVersion.objects.get(letter=letter, number=letter.version)


class StoredContent(NamedTuple):
    content: dict[str, Any]
    content_sha256: str


def current_contents(letter_ids: Iterable[int]) -> dict[int, StoredContent]:
    """The content, as stored, of the version each letter of ``letter_ids`` stands at,
    with its hash, in one query: what a page of letters shows."""
    rows = LetterVersion.objects.filter(
        letter_id__in=list(letter_ids), number=F("letter__version")
    ).values_list("letter_id", "content", "content_sha256")
    return {letter_id: StoredContent(content, digest) for letter_id, content, digest in rows}


def version_of(letter: MissionLetter, number: int) -> LetterVersion | None:
    return LetterVersion.objects.filter(letter=letter, number=number).first()


def version_with_hash(letter: MissionLetter, digest: str) -> LetterVersion | None:
    """The version of the letter whose content has this sha256 (the one a person was
    shown), if any."""
    return (
        LetterVersion.objects.filter(letter=letter, content_sha256=digest)
        .order_by("-number")
        .first()
    )


def referent_names(*contents: dict[str, Any]) -> dict[str, str]:
    """Each référent of the stored ``contents``, by username, as the letter names them
    (their username when it recorded no name)."""
    return {
        r["username"]: r["name"] or r["username"]
        for content in contents
        for r in content["referents"]
    }


@dataclass(frozen=True)
class Change:
    """One difference between two versions. ``section``: ``referents``, ``missions``,
    ``indicators``, ``period``, ``means`` or ``follow_up``; ``kind``: ``added``,
    ``removed`` or ``changed``; ``label`` names the thing, ``before`` and ``after`` say
    it as a person reads it (``None`` for what did not exist)."""

    section: str
    kind: str
    label: str
    before: str | None
    after: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _referent(entry: dict[str, Any]) -> str:
    recognition = recognition_label(entry["imp_amount"], entry["decharge_hours"])
    return f"{entry['name'] or entry['username']} — {recognition}"


def _period(period: dict[str, Any]) -> str:
    def day(value: str | None) -> str:
        return dt.date.fromisoformat(value).strftime("%d/%m/%Y") if value else "…"

    return _("%(kind)s, du %(start)s au %(end)s") % {
        "kind": choice_label(PeriodKind, period.get("kind")),
        "start": day(period.get("start")),
        "end": day(period.get("end")),
    }


def _mission_key(entry: dict[str, Any]) -> str:
    return f"item:{entry['catalog_item']}" if entry.get("catalog_item") else f"text:{entry['text']}"


def _mission(entry: dict[str, Any], names: dict[str, str]) -> str:
    text = f"{entry['text']} ({choice_label(MissionPriority, entry.get('priority'))})"
    carried = ", ".join(names.get(u, u) for u in entry.get("referents", []))
    if not carried:
        return text
    return _("%(mission)s — confiée à %(people)s") % {"mission": text, "people": carried}


def _compare_keyed(
    section: str,
    before: Sequence[dict[str, Any]],
    after: Sequence[dict[str, Any]],
    key: Any,
    label: Any,
    show: Any,
) -> list[Change]:
    old = {key(entry): entry for entry in before}
    new = {key(entry): entry for entry in after}
    changes = [
        Change(section, "removed", label(entry), show(entry), None)
        for k, entry in old.items()
        if k not in new
    ]
    for k, entry in new.items():
        if k not in old:
            changes.append(Change(section, "added", label(entry), None, show(entry)))
        elif show(old[k]) != show(entry):
            changes.append(Change(section, "changed", label(entry), show(old[k]), show(entry)))
    return changes


def version_changes(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """What changed from the content ``before`` to the content ``after`` (two stored
    versions' ``content``), in the letter's order: référents and their recognition,
    missions, indicators, period, means and follow-up."""
    names = referent_names(before, after)
    changes = _compare_keyed(
        "referents",
        before["referents"],
        after["referents"],
        key=lambda r: r["username"],
        label=lambda r: r["name"] or r["username"],
        show=lambda r: _referent(r) + (f" ({r['share']})" if r.get("share") else ""),
    )
    changes += _compare_keyed(
        "missions",
        before["missions"],
        after["missions"],
        key=_mission_key,
        label=lambda m: m["text"],
        show=lambda m: _mission(m, names),
    )
    changes += _compare_keyed(
        "indicators",
        before["indicators"],
        after["indicators"],
        key=lambda i: i["text"],
        label=lambda i: i["text"],
        show=lambda i: _("%(text)s — cible : %(target)s") % i if i.get("target") else i["text"],
    )
    if before["period"] != after["period"]:
        changes.append(
            Change(
                "period",
                "changed",
                _("Période"),
                _period(before["period"]),
                _period(after["period"]),
            )
        )
    old_means, new_means = set(before["means"]), set(after["means"])
    changes += [
        Change("means", "removed", choice_label(Means, m), choice_label(Means, m), None)
        for m in sorted(old_means - new_means)
    ]
    changes += [
        Change("means", "added", choice_label(Means, m), None, choice_label(Means, m))
        for m in sorted(new_means - old_means)
    ]
    if before["means_other"] != after["means_other"]:
        changes.append(
            Change(
                "means",
                "changed",
                _("Autres moyens"),
                before["means_other"] or None,
                after["means_other"] or None,
            )
        )
    if before["follow_up"] != after["follow_up"]:
        changes.append(
            Change(
                "follow_up",
                "changed",
                _("Modalité de suivi"),
                choice_label(FollowUp, before["follow_up"]),
                choice_label(FollowUp, after["follow_up"]),
            )
        )
    for name, label in (
        ("qualification", _("Niveau de qualification dans le numérique")),
        ("dane_training", _("Participation aux formations et animations de la DANE")),
    ):
        if before[name] != after[name]:
            changes.append(
                Change("follow_up", "changed", label, before[name] or None, after[name] or None)
            )
    return changes
