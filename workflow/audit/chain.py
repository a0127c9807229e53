"""The audit trail: one event per step of a letter, each chained to the previous one.

``event_hash`` covers every stored field of the event, including the previous event's
hash, so a change to any field or a removed event breaks the chain from that point.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from workflow.audit.snapshot import canonical_json, full_snapshot, sha256_hex
from workflow.models import (
    Archive,
    AuditEvent,
    LetterVersion,
    MissionLetter,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    Signature,
    SignatureMethod,
)
from workflow.selectors.actors import Actor


def _utc_iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def event_hash(event: AuditEvent) -> str:
    return sha256_hex(
        canonical_json(
            {
                "letter": event.letter_id,
                "sequence": event.sequence,
                "action": event.action,
                "from_state": event.from_state,
                "to_state": event.to_state,
                "actor": event.actor_id,
                "actor_label": event.actor_label,
                "quality": event.quality,
                "created_at": _utc_iso(event.created_at),
                "payload": event.payload,
                "snapshot": event.snapshot,
                "snapshot_sha256": event.snapshot_sha256,
                "previous_hash": event.previous_hash,
            }
        )
    )


def record_event(
    letter: MissionLetter,
    *,
    action: str,
    from_state: str,
    actor: Actor,
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event to the letter's chain. The caller holds the letter's row lock
    (or has just created the letter), so sequences cannot collide."""
    # The previous event's number and hash only: its snapshot and payload are JSON of
    # a few kilobytes that psycopg would decode for nothing.
    previous = (
        AuditEvent.objects.filter(letter=letter)
        .order_by("-sequence")
        .values_list("sequence", "hash")
        .first()
    )
    previous_sequence, previous_hash = (0, "") if previous is None else previous
    # Read afresh (the caller has saved the letter); the content comes as rows, in a
    # few queries whatever the number of référents and missions.
    snapshot = full_snapshot(
        MissionLetter.objects.select_related("establishment", "school_year").get(pk=letter.pk)
    )
    event = AuditEvent(
        letter=letter,
        sequence=previous_sequence + 1,
        action=action,
        from_state=from_state,
        to_state=letter.state,
        actor=actor.user,
        actor_label=actor.label,
        quality=actor.quality_label(),
        created_at=timezone.now(),
        payload=payload or {},
        snapshot=snapshot,
        snapshot_sha256=sha256_hex(canonical_json(snapshot)),
        previous_hash=previous_hash,
    )
    event.hash = event_hash(event)
    event.save(force_insert=True)
    # The letter keeps the chain's head, so removing the latest events shows too.
    MissionLetter.objects.filter(pk=letter.pk).update(audit_head=event.hash)
    letter.audit_head = event.hash
    return event


@dataclass(frozen=True)
class ChainBreak:
    letter_id: int
    sequence: int
    event_id: int
    reason: str

    def __str__(self) -> str:
        return (
            f"lettre {self.letter_id}, événement n° {self.sequence} (id {self.event_id}) : "
            f"{self.reason}"
        )


def verify_letter_chain(
    events: list[AuditEvent], head: str | None = None, state: str | None = None
) -> ChainBreak | None:
    """The first broken event of one letter's events (in sequence order), if any.
    ``head`` and ``state`` are the letter's: its last event must be its chain's head,
    and have brought it to the state it is in."""
    previous_hash = ""
    for expected_sequence, event in enumerate(events, start=1):
        if event.sequence != expected_sequence:
            return ChainBreak(
                event.letter_id,
                event.sequence,
                event.pk,
                f"numéro attendu {expected_sequence} : un événement manque",
            )
        if event.previous_hash != previous_hash:
            return ChainBreak(
                event.letter_id,
                event.sequence,
                event.pk,
                "le lien vers l'événement précédent est rompu",
            )
        if sha256_hex(canonical_json(event.snapshot)) != event.snapshot_sha256:
            return ChainBreak(
                event.letter_id,
                event.sequence,
                event.pk,
                "l'instantané ne correspond plus à son empreinte",
            )
        if event_hash(event) != event.hash:
            return ChainBreak(
                event.letter_id,
                event.sequence,
                event.pk,
                "l'empreinte de l'événement ne correspond plus à son contenu",
            )
        previous_hash = event.hash
    last = events[-1] if events else None
    if last is not None and head is not None and last.hash != head:
        return ChainBreak(
            last.letter_id,
            last.sequence,
            last.pk,
            "le dernier événement n'est plus la fin de l'historique de la "
            "lettre : des événements plus récents ont disparu",
        )
    if last is not None and state is not None and last.to_state != state:
        return ChainBreak(
            last.letter_id,
            last.sequence,
            last.pk,
            "l'état de la lettre ne correspond pas à son dernier événement",
        )
    return None


def verify_chains(letters: QuerySet[MissionLetter] | None = None) -> list[ChainBreak]:
    """The first break of every letter whose chain is broken; empty when all verify.
    Events are read letter by letter, in sequence order, with a server-side cursor."""
    events = AuditEvent.objects.order_by("letter_id", "sequence")
    heads = MissionLetter.objects.all()
    if letters is not None:
        events = events.filter(letter__in=letters)
        heads = heads.filter(pk__in=letters.values("pk"))
    anchors = {
        pk: (head, state) for pk, head, state in heads.values_list("pk", "audit_head", "state")
    }
    breaks: list[ChainBreak] = []
    current_letter: int | None = None
    batch: list[AuditEvent] = []

    def check(batch: list[AuditEvent]) -> None:
        head, state = anchors.get(batch[0].letter_id, (None, None))
        if found := verify_letter_chain(batch, head, state):
            breaks.append(found)

    for event in events.iterator(chunk_size=2000):
        if event.letter_id != current_letter:
            if batch:
                check(batch)
            current_letter, batch = event.letter_id, []
        batch.append(event)
    if batch:
        check(batch)
    # Every letter starts with its creation event: a letter with none lost its history.
    orphans = MissionLetter.objects.filter(events__isnull=True)
    if letters is not None:
        orphans = orphans.filter(pk__in=letters.values("pk"))
    breaks.extend(
        ChainBreak(pk, 1, 0, "la lettre n'a plus aucun événement")
        for pk in orphans.values_list("pk", flat=True)
    )
    return breaks


def _stored_file_problem(file: FieldFile, sha256: str) -> str:
    """What is wrong with a stored file that must hash to ``sha256``: gone, or changed
    since; "" when it is as recorded."""
    try:
        with file.open("rb") as stored:
            digest = hashlib.sha256()
            for chunk in iter(lambda: stored.read(1 << 16), b""):
                digest.update(chunk)
    except FileNotFoundError:
        return "le fichier a disparu"
    if digest.hexdigest() != sha256:
        return "le fichier ne correspond plus à son empreinte"
    return ""


@dataclass(frozen=True)
class ArchiveProblem:
    letter_id: int
    sequence: int
    name: str
    reason: str

    def __str__(self) -> str:
        return (
            f"lettre {self.letter_id}, archive de l'événement n° {self.sequence} "
            f"({self.name}) : {self.reason}"
        )


def verify_archives() -> list[ArchiveProblem]:
    """Every stored PDF must still be there and still hash to what was recorded, and
    every event whose archive was made must still have it: an archive deleted with its
    row leaves its request marked done, and that is found too."""
    problems = []
    for archive in Archive.objects.select_related("event").order_by(
        "event__letter_id", "event__sequence"
    ):
        event = archive.event
        reason = _stored_file_problem(archive.file, archive.sha256)
        if reason:
            problems.append(
                ArchiveProblem(event.letter_id, event.sequence, archive.file.name, reason)
            )
    missing = (
        OutboxItem.objects.filter(
            kind=OutboxKind.ARCHIVE,
            status=OutboxStatus.DONE,
            event__isnull=False,
            event__archive__isnull=True,
        )
        .order_by("event__letter_id", "event__sequence")
        .values_list("event__letter_id", "event__sequence", "key")
    )
    problems.extend(
        ArchiveProblem(
            letter_id,
            sequence,
            key,
            "l'archive a été produite mais elle a disparu, sa ligne avec elle",
        )
        for letter_id, sequence, key in missing
    )
    problems.sort(key=lambda problem: (problem.letter_id, problem.sequence))
    return problems


@dataclass(frozen=True)
class VersionProblem:
    letter_id: int
    number: int
    reason: str

    def __str__(self) -> str:
        return f"lettre {self.letter_id}, version {self.number} : {self.reason}"


def verify_versions() -> list[VersionProblem]:
    """Every stored version must still hash to its recorded sha256, and every signature
    must carry the hash of the version it was given on."""
    problems = [
        VersionProblem(letter_id, number, "le contenu ne correspond plus à son empreinte")
        for letter_id, number, content, digest in LetterVersion.objects.order_by(
            "letter_id", "number"
        )
        .values_list("letter_id", "number", "content", "content_sha256")
        .iterator(chunk_size=2000)
        if sha256_hex(canonical_json(content)) != digest
    ]
    versions = {
        (letter_id, number): digest
        for letter_id, number, digest in LetterVersion.objects.values_list(
            "letter_id", "number", "content_sha256"
        ).iterator(chunk_size=5000)
    }
    for letter_id, number, signed in Signature.objects.order_by("letter_id", "id").values_list(
        "letter_id", "version", "snapshot_sha256"
    ):
        if versions.get((letter_id, number)) != signed:
            problems.append(
                VersionProblem(
                    letter_id, number, "une signature ne porte pas l'empreinte de sa version"
                )
            )
    return problems


@dataclass(frozen=True)
class ScanProblem:
    letter_id: int
    version: int
    signer_name: str
    name: str
    reason: str

    def __str__(self) -> str:
        return (
            f"lettre {self.letter_id}, signature manuscrite de {self.signer_name} sur la "
            f"version {self.version} ({self.name or 'sans fichier'}) : {self.reason}"
        )


def verify_scans() -> list[ScanProblem]:
    """Every paper signature's scan must still be there and still hash to the sha256
    recorded with it (which its step's audit event holds too)."""
    problems = []
    for signature in Signature.objects.filter(method=SignatureMethod.PAPER).order_by(
        "letter_id", "id"
    ):
        where = (signature.letter_id, signature.version, signature.signer_name)
        if not signature.scan:
            problems.append(ScanProblem(*where, "", "le scan manque"))
            continue
        reason = _stored_file_problem(signature.scan, signature.scan_sha256)
        if reason:
            problems.append(ScanProblem(*where, signature.scan.name, reason))
    return problems
