"""Every existing letter gets its versions, from its audit events' snapshots.

Each event's snapshot carries the content as it was hashed then. For each version
number a letter went through, the content kept is, in this order of preference:
- the one its signatures were given on (their ``snapshot_sha256``), so that every
  existing signature matches its version's hash;
- the one it had when it first left the draft (the content the référents were shown);
- the last one recorded.
A letter still in draft gets its working version from its rows as they stand, since
a draft's edits write no event.

Each signature gets the signer's name as the history first recorded it with that
signature (the name as they signed), or, failing that, as it stands.

On PostgreSQL the new table is analysed at the end: until autovacuum comes by, the
planner knows nothing of its rows, and the first reads of letters chose slow plans.
"""

from django.db import migrations


def _chosen(events, signed_hash):
    if signed_hash:
        for event in events:
            if event["snapshot"]["content_sha256"] == signed_hash:
                return event
    for event in events:
        if event["to_state"] != "draft":
            return event
    return events[-1]


def versions_from_history(apps, schema_editor):
    # The one builder of a content snapshot, used for drafts only: it reads the rows by
    # the models' table and column names, which this migration's schema has.
    from workflow.audit.snapshot import canonical_json, content_snapshot, sha256_hex

    MissionLetter = apps.get_model("workflow", "MissionLetter")
    AuditEvent = apps.get_model("workflow", "AuditEvent")
    Signature = apps.get_model("workflow", "Signature")
    LetterVersion = apps.get_model("workflow", "LetterVersion")
    letters = MissionLetter.objects.select_related("establishment", "school_year").order_by("pk")
    for letter in letters.iterator(chunk_size=500):
        signed = dict(
            Signature.objects.filter(letter_id=letter.pk).values_list("version", "snapshot_sha256")
        )
        by_number = {}
        for event in (
            AuditEvent.objects.filter(letter_id=letter.pk)
            .order_by("sequence")
            .values("to_state", "actor_id", "created_at", "snapshot")
        ):
            by_number.setdefault(event["snapshot"]["content"]["version"], []).append(event)
        working = letter.state == "draft"
        rows = []
        for number, events in sorted(by_number.items()):
            if working and number == letter.version:
                continue
            chosen = _chosen(events, signed.get(number))
            rows.append(
                LetterVersion(
                    letter_id=letter.pk,
                    number=number,
                    content=chosen["snapshot"]["content"],
                    content_sha256=chosen["snapshot"]["content_sha256"],
                    created_at=events[0]["created_at"],
                    created_by_id=events[0]["actor_id"],
                )
            )
        if working or letter.version not in by_number:
            content = content_snapshot(letter)
            rows.append(
                LetterVersion(
                    letter_id=letter.pk,
                    number=letter.version,
                    content=content,
                    content_sha256=sha256_hex(canonical_json(content)),
                    created_at=letter.updated_at,
                    created_by_id=letter.created_by_id,
                )
            )
        LetterVersion.objects.bulk_create(rows)
        _signer_names(Signature, letter, by_number)
    if schema_editor is not None and schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ANALYZE {LetterVersion._meta.db_table}")


def _signer_names(Signature, letter, by_number):
    recorded = {}
    for events in by_number.values():
        for event in events:
            for entry in event["snapshot"].get("signatures", []):
                key = (entry["username"], entry["version"])
                recorded.setdefault(key, entry.get("name") or "")
    signatures = list(Signature.objects.filter(letter_id=letter.pk).select_related("signer"))
    for signature in signatures:
        signer = signature.signer
        live = f"{signer.first_name} {signer.last_name}".strip() or signer.username
        signature.signer_name = recorded.get((signer.username, signature.version)) or live
    Signature.objects.bulk_update(signatures, ["signer_name"])


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0006_letter_versions"),
    ]

    operations = [
        migrations.RunPython(versions_from_history, migrations.RunPython.noop, elidable=True),
    ]
