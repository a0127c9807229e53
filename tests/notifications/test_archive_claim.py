"""Archive rendering holds no transaction (DESIGN §6): the request is claimed on a lease in
one short transaction, the PDF rendered with none open (on SQLite an open transaction
holds the database's only write lock), then stored in another. A worker that dies while
rendering leaves the request to the next sweep once its lease has run out; a worker that
outlives its lease stores nothing, so an archive is never stored twice."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from notifications import services
from notifications.services import (
    ARCHIVE_LEASE,
    ARCHIVE_WORKER_DIED,
    MAX_ATTEMPTS,
    render_pending_archives,
)
from tests.factories import make_letter, make_school
from workflow.audit.chain import verify_archives
from workflow.audit.pdf import render_event_pdf
from workflow.models import Archive, AuditEvent, OutboxItem, OutboxKind, OutboxStatus


class WorkerDied(BaseException):
    """What a worker killed mid-render looks like from inside: nothing it catches."""


def _one_archive_request(settings: Any, tmp_path: Path, name: str) -> OutboxItem:
    settings.MEDIA_ROOT = tmp_path
    school = make_school(name)
    letter = make_letter(school)
    [item] = OutboxItem.objects.filter(kind=OutboxKind.ARCHIVE, letter=letter)
    assert item.status == OutboxStatus.PENDING
    return item


def _stored_pdfs(tmp_path: Path) -> list[Path]:
    return sorted(tmp_path.rglob("*.pdf"))


@pytest.mark.django_db(transaction=True)
def test_the_pdf_renders_with_no_transaction_open_and_the_claim_committed(
    settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = _one_archive_request(settings, tmp_path, "SansVerrou")
    seen: list[OutboxItem] = []

    def render(event: AuditEvent, *, action_label: str) -> bytes:
        assert not connection.in_atomic_block
        assert connection.get_autocommit()
        # The claim is committed before the render: another worker sees the lease.
        seen.append(OutboxItem.objects.get(pk=item.pk))
        return render_event_pdf(event, action_label=action_label)

    monkeypatch.setattr(services, "render_event_pdf", render)
    assert render_pending_archives() == 1

    [claimed] = seen
    assert claimed.status == OutboxStatus.PENDING
    assert claimed.attempts == 1
    assert claimed.next_attempt_at is not None
    assert claimed.next_attempt_at > timezone.now() + ARCHIVE_LEASE - dt.timedelta(minutes=1)
    item.refresh_from_db()
    assert (item.status, item.attempts) == (OutboxStatus.DONE, 1)
    assert Archive.objects.filter(event=item.event).count() == 1
    assert verify_archives() == []


@pytest.mark.django_db
def test_a_worker_that_died_rendering_leaves_the_archive_to_the_next_once_its_lease_ends(
    settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = _one_archive_request(settings, tmp_path, "Relève")

    def die(event: AuditEvent, *, action_label: str) -> bytes:
        raise WorkerDied

    monkeypatch.setattr(services, "render_event_pdf", die)
    with pytest.raises(WorkerDied):
        render_pending_archives()
    monkeypatch.setattr(services, "render_event_pdf", render_event_pdf)

    item.refresh_from_db()
    assert (item.status, item.attempts) == (OutboxStatus.PENDING, 1)
    assert not Archive.objects.exists()
    # Its lease holds: the next sweeps leave it alone.
    assert render_pending_archives() == 0

    assert item.next_attempt_at is not None
    with time_machine.travel(item.next_attempt_at + dt.timedelta(seconds=1), tick=False):
        assert render_pending_archives() == 1
    item.refresh_from_db()
    assert (item.status, item.attempts) == (OutboxStatus.DONE, 2)
    assert Archive.objects.filter(event=item.event).count() == 1
    assert len(_stored_pdfs(tmp_path)) == 1
    assert verify_archives() == []


@pytest.mark.django_db
def test_a_worker_that_outlived_its_lease_stores_nothing(
    settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker A renders so slowly that its lease runs out; worker B takes the request and
    stores the archive; A's PDF, when it comes, is dropped: one row, one file."""
    item = _one_archive_request(settings, tmp_path, "Retardataire")
    calls: list[str] = []

    def render(event: AuditEvent, *, action_label: str) -> bytes:
        calls.append("render")
        if len(calls) == 1:  # worker A, mid-render: its lease runs out, B comes
            assert item.event is not None
            late = timezone.now() + ARCHIVE_LEASE + dt.timedelta(seconds=1)
            with time_machine.travel(late, tick=False):
                assert render_pending_archives() == 1
            assert Archive.objects.filter(event=event).count() == 1
        return render_event_pdf(event, action_label=action_label)

    monkeypatch.setattr(services, "render_event_pdf", render)
    stored_by_b: list[str] = []
    real_store = services._store_archive

    def store(claim: Any, made: tuple[bytes, str]) -> bool:
        done = real_store(claim, made)
        stored_by_b.append("stored" if done else "dropped")
        return done

    monkeypatch.setattr(services, "_store_archive", store)
    assert render_pending_archives() == 1

    assert calls == ["render", "render"]
    assert stored_by_b == ["stored", "dropped"]  # B's, then A's
    item.refresh_from_db()
    assert (item.status, item.attempts) == (OutboxStatus.DONE, 2)
    [archive] = Archive.objects.filter(event=item.event)
    [stored] = _stored_pdfs(tmp_path)
    assert Path(archive.file.path) == stored
    assert verify_archives() == []


@pytest.mark.django_db
def test_a_failed_render_is_retried_after_its_backoff(
    settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = _one_archive_request(settings, tmp_path, "Réessai")

    def fail(event: AuditEvent, *, action_label: str) -> bytes:
        raise RuntimeError("Pango absent")

    monkeypatch.setattr(services, "render_event_pdf", fail)
    before = timezone.now()
    assert render_pending_archives() == 1
    item.refresh_from_db()
    assert (item.status, item.attempts) == (OutboxStatus.PENDING, 1)
    assert item.last_error == "RuntimeError: Pango absent"
    assert item.next_attempt_at is not None
    assert item.next_attempt_at >= before + services.backoff(1)
    assert render_pending_archives() == 0  # not due yet

    item.attempts = MAX_ATTEMPTS - 1
    item.next_attempt_at = timezone.now()
    item.save(update_fields=["attempts", "next_attempt_at"])
    assert render_pending_archives() == 1
    item.refresh_from_db()
    assert (item.status, item.attempts) == (OutboxStatus.FAILED, MAX_ATTEMPTS)
    assert not Archive.objects.exists()


@pytest.mark.django_db
def test_a_request_whose_last_attempt_killed_its_worker_is_marked_failed(
    settings: Any, tmp_path: Path
) -> None:
    item = _one_archive_request(settings, tmp_path, "Épuisé")
    item.attempts = MAX_ATTEMPTS
    item.next_attempt_at = timezone.now() - dt.timedelta(seconds=1)  # its lease ran out
    item.save(update_fields=["attempts", "next_attempt_at"])

    assert render_pending_archives() == 0
    item.refresh_from_db()
    assert (item.status, item.last_error) == (OutboxStatus.FAILED, ARCHIVE_WORKER_DIED)
    assert not Archive.objects.exists()
