"""The work the sweeps do (DESIGN §6). Every function here is idempotent and safe to run
from several workers at once: rows are claimed with ``SELECT … FOR UPDATE SKIP LOCKED``,
and every e-mail, reminder and archive has a unique key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import parseaddr
from smtplib import (
    SMTPDataError,
    SMTPException,
    SMTPRecipientsRefused,
    SMTPResponseException,
)
from typing import Any, TypeVar

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.utils import DNS_NAME
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation

from governance.models import Academy, Meeting, Role, RoleAssignment, SchoolYear, User
from notifications import emails
from notifications.emails import Details, compose, compose_digest, letter_url
from notifications.facts import mail_details
from notifications.models import (
    Anchor,
    Audience,
    Email,
    EmailStatus,
    Reminder,
    ReminderPolicy,
)
from notifications.preferences import Delivery, delivery_for, preferences_for
from notifications.schedule import QuietCalendar, latest_due_occurrence
from workflow.audit.pdf import render_event_pdf
from workflow.audit.seal import Sealed, new_token, sealed_letter_pdf
from workflow.audit.versions import Change, version_changes, version_of
from workflow.errors import WorkflowError
from workflow.lifecycle.engine import fire_transition
from workflow.lifecycle.spec import Waiting
from workflow.lifecycle.table import action_label, version_sharing_actions
from workflow.lifecycle.table import awaited_people as table_awaited_people
from workflow.models import (
    AgendaItem,
    Archive,
    AuditEvent,
    LetterReferent,
    LetterState,
    MissionLetter,
    Opinion,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    SealedLetter,
    Signature,
    archive_upload_to,
)
from workflow.selectors.visibility import role_holders

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4 … minutes, at most 6 hours: long outages are waited out by the sweep."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


# Outbox → e-mails ------------------------------------------------------------------------


def _why(recipient: User, letter: MissionLetter) -> str | None:
    """Why this person receives a message about this letter, for the e-mail's last line."""
    if LetterReferent.objects.filter(letter=letter, user=recipient).exists():
        return emails.REFERENT
    roles = set(
        RoleAssignment.objects.filter(
            Q(establishment_id=letter.establishment_id)
            | Q(role=Role.DAN, academy_id=letter.establishment.academy_id),
            user=recipient,
        ).values_list("role", flat=True)
    )
    if Role.PRINCIPAL in roles or Role.DEPUTY in roles:
        return emails.PRINCIPAL
    if Role.CP_SECRETARY in roles or Role.CA_SECRETARY in roles:
        return emails.SECRETARY
    if Role.DAN in roles:
        return emails.DAN
    return None


# The status an e-mail is made with, by how its person wants that kind of notification.
_STATUS_BY_DELIVERY: dict[str, str] = {
    Delivery.IMMEDIATE: EmailStatus.PENDING,
    Delivery.DIGEST: EmailStatus.HELD,
    Delivery.NONE: EmailStatus.DROPPED,
}


def queue_email(
    *,
    key: str,
    recipient: User,
    topic: str,
    letter: MissionLetter | None,
    why: str | None = None,
    what: str | None = None,
    action: str | None = None,
    changes: list[Change] | None = None,
    details: Details | None = None,
) -> Email:
    """The e-mail for ``key``, made once, as its person wants that kind of notification.
    ``changes`` and ``details``: what happened, for the message to say it."""
    existing = Email.objects.filter(key=key).first()
    if existing is not None:
        return existing
    message = compose(
        topic,
        recipient,
        letter,
        why=why,
        what=what,
        action=action,
        changes=changes,
        details=details,
    )
    # Immediately due, held for the digest, or dropped (a kind the person wants no mail
    # for); requests to act are always due at once (``notifications.preferences``).
    status = _STATUS_BY_DELIVERY[delivery_for(recipient, topic)]
    last_error = ""
    if not recipient.email:
        status, last_error = EmailStatus.FAILED, "Aucune adresse électronique pour cette personne."
    return Email.objects.create(
        key=key,
        recipient=recipient,
        to_address=recipient.email or "",
        subject=message.subject,
        body_text=message.text,
        body_html=message.html,
        summary=message.summary,
        topic=topic,
        letter=letter,
        status=status,
        next_attempt_at=timezone.now(),
        last_error=last_error,
    )


def _new_version_changes(item: OutboxItem) -> list[Change] | None:
    """What a new version changed, for the mail announcing it (an edit in concertation
    names the version it made)."""
    if item.topic != "content_changed" or item.event is None:
        return None
    number = item.event.payload.get("version")
    if not isinstance(number, int) or number < 2:
        return None
    before, after = version_of(item.letter, number - 1), version_of(item.letter, number)
    if before is None or after is None:
        return None
    return version_changes(before.content, after.content)


def process_notifications(limit: int = 200) -> int:
    """Turn pending notification requests of the outbox into e-mails."""
    with transaction.atomic():
        items = list(
            OutboxItem.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(kind=OutboxKind.NOTIFICATION, status=OutboxStatus.PENDING)
            .select_related("recipient", "letter__establishment", "letter__school_year", "event")
            .order_by("id")[:limit]
        )
        for item in items:
            assert item.recipient is not None
            queue_email(
                key=f"email:{item.key}",
                recipient=item.recipient,
                topic=item.topic,
                letter=item.letter,
                why=_why(item.recipient, item.letter),
                changes=_new_version_changes(item),
                details=mail_details(item),
            )
        OutboxItem.objects.filter(pk__in=[i.pk for i in items]).update(
            status=OutboxStatus.DONE, done_at=timezone.now(), attempts=F("attempts") + 1
        )
    return len(items)


# Archives ----------------------------------------------------------------------------------
#
# WeasyPrint is slow, and on SQLite an open transaction holds the database's only write
# lock: an archive is claimed in one short transaction, rendered with none open,
# then stored in a second short one. The claim is a lease of ``ARCHIVE_LEASE`` written in
# the request's ``next_attempt_at`` (other workers skip the request until it runs out; a
# worker that died while rendering leaves it due again once it has), and the lease's end
# is the claim's token: only the worker whose lease is still the request's stores its PDF,
# so a request is stored once even when a worker outlives its lease.

# Far longer than the largest letter's render (``python -m bench.pdf_largest``).
ARCHIVE_LEASE = dt.timedelta(minutes=5)
ARCHIVE_WORKER_DIED = "Le processus qui produisait l'archive s'est arrêté avant de l'enregistrer."


# What a leased request makes before it is stored: an archive's PDF, a sealed letter.
Made = TypeVar("Made")


@dataclass(frozen=True)
class _ArchiveClaim:
    """An archive request this worker holds until ``lease``."""

    item_id: int
    event: AuditEvent
    lease: dt.datetime
    attempts: int


def _claim(kind: str, worker_died: str) -> _ArchiveClaim | None:
    """Take the oldest due request of ``kind`` (an archive, a seal) on a lease of
    ``ARCHIVE_LEASE``; None when none is due. A request whose last allowed attempt ended
    with its worker's death is marked failed (``worker_died``) rather than tried again."""
    now = timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    pending = OutboxItem.objects.filter(kind=kind, status=OutboxStatus.PENDING)
    with transaction.atomic():
        pending.filter(due, attempts__gte=MAX_ATTEMPTS).update(
            status=OutboxStatus.FAILED, last_error=worker_died
        )
        item = (
            pending.select_for_update(skip_locked=True, of=("self",))
            .filter(due)
            .select_related("event")
            .order_by("id")
            .first()
        )
        if item is None:
            return None
        assert item.event is not None
        lease = now + ARCHIVE_LEASE
        # Counted when claimed, so that a render that kills its worker is counted too.
        item.attempts += 1
        item.next_attempt_at = lease
        item.save(update_fields=["attempts", "next_attempt_at"])
    return _ArchiveClaim(item_id=item.pk, event=item.event, lease=lease, attempts=item.attempts)


def _held(claim: _ArchiveClaim) -> QuerySet[OutboxItem]:
    """The claimed request, as long as this worker's lease is still its own."""
    return OutboxItem.objects.filter(
        pk=claim.item_id, status=OutboxStatus.PENDING, next_attempt_at=claim.lease
    )


def _archive_failed(claim: _ArchiveClaim, exc: Exception) -> None:
    """Due again after the backoff, or failed after ``MAX_ATTEMPTS``."""
    _held(claim).update(
        status=OutboxStatus.FAILED if claim.attempts >= MAX_ATTEMPTS else OutboxStatus.PENDING,
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
        next_attempt_at=timezone.now() + backoff(claim.attempts),
    )


def _run_leased(
    kind: str,
    worker_died: str,
    make: Callable[[AuditEvent], Made],
    store: Callable[[_ArchiveClaim, Made], bool],
) -> bool:
    """Claim one due request of ``kind`` (``_claim``), make its file from its event with
    no transaction open (``make``: slow, maybe a network call) and store it (``store``:
    only if the lease is still this worker's). A failure is tried again after the
    backoff. False when no request is due."""
    claim = _claim(kind, worker_died)
    if claim is None:
        return False
    event = claim.event
    try:
        made = make(event)
    except Exception as exc:
        logger.exception("%s of event %s failed", kind, event.pk)
        _archive_failed(claim, exc)
        return True
    if not store(claim, made):
        logger.warning("%s of event %s: lease lost, another worker stores it", kind, event.pk)
    return True


def _run_pending(one: Callable[[], bool], limit: int) -> int:
    """Run ``one`` until no request is due, ``limit`` times at most; how many ran."""
    done = 0
    while done < limit and one():
        done += 1
    return done


def _archive_of(event: AuditEvent) -> tuple[bytes, str]:
    """The step's PDF, and the step named in French, as the history names it: at the
    PDF's foot and in the file's name, whatever language the worker runs in."""
    with translation.override(settings.LANGUAGE_CODE):
        label = action_label(event.action)
    return render_event_pdf(event, action_label=label), label


def _store_archive(claim: _ArchiveClaim, made: tuple[bytes, str]) -> bool:
    """Store the PDF and mark the request done, in one transaction, if the lease is still
    this worker's (its update locks the request until the commit); False, storing
    nothing, when another worker has taken the request over."""
    pdf, label = made
    event = claim.event
    with transaction.atomic():
        if not _held(claim).update(status=OutboxStatus.DONE, done_at=timezone.now()):
            return False
        archive = Archive(event=event, sha256=hashlib.sha256(pdf).hexdigest(), size=len(pdf))
        file_name = Archive.file_name(event, label)
        name = archive_upload_to(archive, file_name)
        if default_storage.exists(name):  # left by a worker that died before committing
            default_storage.delete(name)
        archive.file.save(file_name, ContentFile(pdf), save=False)
        Archive.objects.filter(event=event).delete()
        archive.save()
    return True


def render_pending_archives(limit: int = 20) -> int:
    """Render and store the due archive requests, ``limit`` at most; how many ran."""
    return _run_pending(
        lambda: _run_leased(OutboxKind.ARCHIVE, ARCHIVE_WORKER_DIED, _archive_of, _store_archive),
        limit,
    )


# Sealing ------------------------------------------------------------------------------------
#
# The sealed PDF of a letter brought into force (``OutboxKind.SEAL``, one per letter and
# version): claimed on a lease like an archive, rendered and sealed with no transaction
# open (the timestamp authority is a network call), stored if the lease is still ours.

SEAL_WORKER_DIED = "Le processus qui scellait la lettre s'est arrêté avant de l'enregistrer."


def _seal_of(event: AuditEvent) -> tuple[str, Sealed]:
    """The letter's sealed PDF, rendered and sealed, with the token of its public check."""
    token = new_token()
    return token, sealed_letter_pdf(event.snapshot, token)


def _store_seal(claim: _ArchiveClaim, made: tuple[str, Sealed]) -> bool:
    """Store the sealed PDF and mark the request done, in one transaction, if the lease
    is still this worker's; False, storing nothing, when another worker has taken over."""
    token, sealed = made
    event = claim.event
    version = event.snapshot["content"]["version"]
    with transaction.atomic():
        if not _held(claim).update(status=OutboxStatus.DONE, done_at=timezone.now()):
            return False
        if SealedLetter.objects.filter(letter_id=event.letter_id, version=version).exists():
            return True  # sealed already (a request made again by hand)
        pdf = sealed.pdf
        record = SealedLetter(
            letter_id=event.letter_id,
            version=version,
            token=token,
            sha256=hashlib.sha256(pdf).hexdigest(),
            size=len(pdf),
            level=sealed.level,
            sealed_at=timezone.now(),
        )
        name = f"lettre-{event.letter_id}-v{version}-scellee.pdf"
        record.file.save(name, ContentFile(pdf), save=False)
        record.save()
    return True


def render_pending_seals(limit: int = 10) -> int:
    """Seal and store the due letters in force, ``limit`` at most; how many ran."""
    return _run_pending(
        lambda: _run_leased(OutboxKind.SEAL, SEAL_WORKER_DIED, _seal_of, _store_seal), limit
    )


# Sending -----------------------------------------------------------------------------------
#
# ``Email.claimed_at`` is the moment a worker last held the e-mail: while it is being sent
# (``sending``), the start of its lease, renewed as the batch goes; once sent, when the
# server accepted it; once an attempt failed, when it failed. ``selectors.smtp_health``
# reads the last two, through the (status, claimed_at) index.


def _retry_later(emails: list[Email], error: BaseException) -> None:
    now = timezone.now()
    for email in emails:
        attempts = email.attempts + 1
        Email.objects.filter(pk=email.pk).update(
            status=EmailStatus.FAILED if attempts >= MAX_ATTEMPTS else EmailStatus.PENDING,
            attempts=attempts,
            next_attempt_at=now + backoff(attempts),
            last_error=f"{type(error).__name__}: {error}"[:2000],
            claimed_at=now,
        )


def message_id(key: str) -> str:
    """The e-mail's Message-ID, derived from its key (``make_msgid``'s form, but the same
    every time): a message sent again, after a worker died between the server's answer
    and the commit, is the same message, which mail clients show once."""
    digest = hashlib.sha256(f"{settings.SITE_URL}|{key}".encode()).hexdigest()[:40]
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or str(DNS_NAME)
    return f"<{digest}@{domain}>"


def _message(email: Email, connection: object) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        to=[email.to_address],
        connection=connection,
        headers={"Message-ID": message_id(email.key), "X-Lettres-De-Mission-Key": email.key},
    )
    message.attach_alternative(email.body_html, "text/html")
    return message


def claim_emails(limit: int | None = None) -> list[Email]:
    """Take a small batch of due e-mails (``EMAIL_CLAIM_BATCH`` unless ``limit`` says)
    for this worker, on a lease of ``EMAIL_CLAIM_TIMEOUT`` seconds that the sender renews
    as it goes (``_renew_lease``); other workers skip them. The e-mails of a worker that
    died are free again once their lease has run out: at the next sweep, not minutes
    later, and only the few of its batch it had not sent yet."""
    limit = limit or settings.EMAIL_CLAIM_BATCH
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.EMAIL_CLAIM_TIMEOUT)
    Email.objects.filter(status=EmailStatus.SENDING, claimed_at__lt=stale).update(
        status=EmailStatus.PENDING, claimed_at=None
    )
    with transaction.atomic():
        batch = list(
            Email.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=EmailStatus.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by("next_attempt_at", "id")[:limit]
        )
        Email.objects.filter(pk__in=[e.pk for e in batch]).update(
            status=EmailStatus.SENDING, claimed_at=now
        )
    for email in batch:
        email.status, email.claimed_at = EmailStatus.SENDING, now
    return batch


def _renew_lease(emails: list[Email], lease: dt.datetime) -> tuple[list[Email], dt.datetime]:
    """Extend the lease of the e-mails of a batch not sent yet; those whose lease ran out
    and that another worker took meanwhile are left to it."""
    now = timezone.now()
    renewed = Email.objects.filter(
        pk__in=[e.pk for e in emails], status=EmailStatus.SENDING, claimed_at=lease
    ).update(claimed_at=now)
    if renewed < len(emails):
        kept = set(
            Email.objects.filter(
                pk__in=[e.pk for e in emails], status=EmailStatus.SENDING, claimed_at=now
            ).values_list("pk", flat=True)
        )
        emails = [e for e in emails if e.pk in kept]
    return emails, now


def _release(emails: list[Email]) -> None:
    """Give back claimed e-mails that were not tried: due again at once."""
    Email.objects.filter(pk__in=[e.pk for e in emails], status=EmailStatus.SENDING).update(
        status=EmailStatus.PENDING, claimed_at=None
    )


class _ConnectionLost(Exception):
    pass


def _hard_bounce(exc: SMTPException) -> str | None:
    """The server's reason when it refused the recipient for good (an SMTP 5xx to the
    recipient or to the message sent to them); None for a refusal worth retrying (4xx)
    or that is not the address's doing (our sender address refused)."""
    if isinstance(exc, SMTPRecipientsRefused):
        answers = list(exc.recipients.values())
        if answers and all(500 <= code < 600 for code, _text in answers):
            code, text = answers[0]
            return f"{code} {_decoded(text)}"
        return None
    if isinstance(exc, SMTPDataError) and 500 <= exc.smtp_code < 600:
        return f"{exc.smtp_code} {_decoded(exc.smtp_error)}"
    return None


def _decoded(text: bytes | str) -> str:
    return (text.decode(errors="replace") if isinstance(text, bytes) else str(text)).strip()


def _fail_for_good(email: Email, error: str) -> None:
    """No further attempt at this e-mail."""
    now = timezone.now()
    Email.objects.filter(pk=email.pk).update(
        status=EmailStatus.FAILED,
        attempts=F("attempts") + 1,
        next_attempt_at=None,
        last_error=error[:2000],
        claimed_at=now,
    )


def _mark_address_failing(email: Email, reason: str) -> bool:
    """The person's address is failing (shown to the administrator and the principal),
    if it is still the one that bounced, until it changes or is cleared. Whether it
    was marked now."""
    marked = User.objects.filter(
        pk=email.recipient_id, email__iexact=email.to_address, email_failing_since__isnull=True
    ).update(email_failing_since=timezone.now(), email_failing_reason=reason[:500])
    return marked > 0


def _send_batch(connection: Any, batch: list[Email]) -> int:
    """Send one claimed batch; the number sent. Raises ``_ConnectionLost`` when the
    server went away: the failed e-mail is postponed, the rest of the batch released.

    A hard bounce (the server refuses the recipient with a 5xx) fails the e-mail for
    good and marks the address as failing: nothing more is tried to it, in this batch
    or later, until the person changes it or an administrator clears it."""
    lease = batch[0].claimed_at
    assert lease is not None
    renew_every = settings.EMAIL_CLAIM_TIMEOUT / 3
    renewed_at = time.monotonic()
    waiting = list(batch)
    failing = dict(
        User.objects.filter(
            pk__in={e.recipient_id for e in batch}, email_failing_since__isnull=False
        ).values_list("pk", "email_failing_reason")
    )
    sent = 0
    while waiting:
        if time.monotonic() - renewed_at > renew_every:
            waiting, lease = _renew_lease(waiting, lease)
            renewed_at = time.monotonic()
            if not waiting:
                break
        email = waiting.pop(0)
        if email.recipient_id in failing:
            _fail_for_good(email, f"Adresse en échec, non essayée : {failing[email.recipient_id]}")
            continue
        try:
            connection.send_messages([_message(email, connection)])
        except (SMTPResponseException, SMTPRecipientsRefused) as exc:  # this one refused
            reason = _hard_bounce(exc)
            if reason is None:
                _retry_later([email], exc)
                continue
            _fail_for_good(email, f"Adresse refusée par le serveur de messagerie : {reason}")
            if _mark_address_failing(email, reason):
                failing[email.recipient_id] = reason
            continue
        except (SMTPException, OSError) as exc:  # the server went away
            _retry_later([email], exc)
            _release(waiting)
            raise _ConnectionLost from exc
        now = timezone.now()
        Email.objects.filter(pk=email.pk).update(
            status=EmailStatus.SENT,
            sent_at=now,
            attempts=F("attempts") + 1,
            last_error="",
            claimed_at=now,
        )
        sent += 1
    return sent


def send_pending_emails(limit: int = 100) -> int:
    """Send up to ``limit`` due e-mails over one SMTP connection, claimed a few at a time
    (``claim_emails``). Each is marked sent right after the server accepts it, so a crash
    repeats at most the one message in flight (with the same Message-ID), and the rest
    of its small batch goes at the next sweep. When the server cannot be reached, the
    batch is postponed and the sweep stops there."""
    sent = tried = 0
    connection = None
    try:
        while tried < limit:
            batch = claim_emails(min(settings.EMAIL_CLAIM_BATCH, limit - tried))
            if not batch:
                break
            tried += len(batch)
            if connection is None:
                connection = get_connection(fail_silently=False)
                try:
                    connection.open()
                except (SMTPException, OSError) as exc:
                    logger.warning("SMTP unreachable, %s e-mail(s) postponed: %s", len(batch), exc)
                    _retry_later(batch, exc)
                    connection = None
                    break
            try:
                sent += _send_batch(connection, batch)
            except _ConnectionLost as lost:
                logger.warning("SMTP connection lost, sending stops here: %s", lost.__cause__)
                break
    finally:
        if connection is not None:
            try:
                connection.close()
            except (SMTPException, OSError):
                logger.warning("SMTP connection did not close cleanly")
    return sent


def send_digests(now: dt.datetime | None = None) -> int:
    """Run every hour. What a person now wants no mail for (a kind set to « none ») is
    dropped; then each person whose digest hour has come today (Europe/Paris) gets one
    digest of what was held for them, once a day: the key names the person and the day,
    so a second run the same day, or a run a few hours late, sends nothing twice."""
    now = timezone.localtime(now or timezone.now())
    today = now.date()
    made = 0
    user_ids = list(
        Email.objects.filter(status=EmailStatus.HELD).values_list("recipient", flat=True).distinct()
    )
    choices = preferences_for(user_ids)
    for user_id in user_ids:
        preferences = choices[user_id]
        with transaction.atomic():
            held = list(
                Email.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(recipient_id=user_id, status=EmailStatus.HELD)
                .select_related("letter")
                .order_by("created_at", "id")
            )
            unwanted = [e.pk for e in held if preferences.delivery(e.topic) == Delivery.NONE]
            if unwanted:
                Email.objects.filter(pk__in=unwanted).update(status=EmailStatus.DROPPED)
            held = [e for e in held if e.pk not in unwanted]
            if not held or now.hour < preferences.digest_hour:
                continue
            key = f"digest:{user_id}:{today.isoformat()}"
            if Email.objects.filter(key=key).exists():
                continue  # today's digest is out; these wait for tomorrow's
            recipient = User.objects.get(pk=user_id)
            items = [
                {
                    "subject": e.subject,
                    "summary": e.summary,
                    "url": letter_url(e.letter) if e.letter else settings.SITE_URL,
                }
                for e in held
            ]
            message = compose_digest(recipient, items)
            digest = Email.objects.create(
                key=key,
                recipient=recipient,
                to_address=recipient.email,
                subject=message.subject,
                body_text=message.text,
                body_html=message.html,
                topic="digest",
                status=EmailStatus.PENDING if recipient.email else EmailStatus.FAILED,
                next_attempt_at=timezone.now(),
            )
            Email.objects.filter(pk__in=[e.pk for e in held]).update(
                status=EmailStatus.DIGESTED, digest=digest
            )
            made += 1
    return made


# Reminders ---------------------------------------------------------------------------------


SWEEP_CHUNK = 2000


def _latest(rows: Iterable[tuple[int, int, dt.datetime]]) -> dict[int, dt.datetime]:
    """letter id → the moment of its highest-numbered event among ``rows``."""
    best: dict[int, tuple[int, dt.datetime]] = {}
    for letter_id, sequence, moment in rows:
        if letter_id not in best or sequence > best[letter_id][0]:
            best[letter_id] = (sequence, moment)
    return {letter_id: moment for letter_id, (_sequence, moment) in best.items()}


@dataclass
class SweepFacts:
    """What the reminder sweep reads about a batch of letters, all in the same state, in
    a fixed number of queries whatever the batch's size: the sweep runs over every
    letter of the country, and a few queries per letter made it minutes long."""

    state: str
    referents: dict[int, list[LetterReferent]]
    people: dict[tuple[int, str], list[int]]  # (establishment, role) → user ids
    signatures: dict[int, list[Signature]]
    entered: dict[int, dt.datetime]  # when each letter last entered the state
    shared: dict[int, dt.datetime]  # when its current version was last shared
    waiting_agenda: dict[int, dt.datetime]  # latest agenda meeting without its opinion
    council_meetings: dict[int, list[dt.datetime]]  # establishment → its council's meetings
    reminded: set[str]
    users: dict[int, User] = field(default_factory=dict)  # loaded only to be reminded

    @classmethod
    def load(cls, state: str, letters: list[MissionLetter], anchors: set[str]) -> SweepFacts:
        """``anchors``: what the state's policies count from; only those are read."""
        ids = [letter.pk for letter in letters]
        establishments = {letter.establishment_id for letter in letters}
        referents: dict[int, list[LetterReferent]] = {}
        for referent in LetterReferent.objects.filter(letter_id__in=ids).only(
            "letter_id", "user_id", "agreed_version", "order"
        ):
            referents.setdefault(referent.letter_id, []).append(referent)
        people = role_holders(
            establishments, [Role.PRINCIPAL, Role.CP_SECRETARY, Role.CA_SECRETARY]
        )
        signatures: dict[int, list[Signature]] = {}
        if state == LetterState.SIGNATURE:
            for signature in Signature.objects.filter(letter_id__in=ids):
                signatures.setdefault(signature.letter_id, []).append(signature)
        events = AuditEvent.objects.filter(letter_id__in=ids)
        entered: dict[int, dt.datetime] = {}
        if anchors & {Anchor.STATE_ENTERED, Anchor.MEETING}:
            entered = _latest(
                events.filter(to_state=state)
                .exclude(from_state=state)
                .values_list("letter_id", "sequence", "created_at")
            )
        shared: dict[int, dt.datetime] = {}
        if Anchor.VERSION_SHARED in anchors:
            shared = _latest(
                events.filter(action__in=version_sharing_actions()).values_list(
                    "letter_id", "sequence", "created_at"
                )
            )
        waiting_agenda: dict[int, dt.datetime] = {}
        council_meetings: dict[int, list[dt.datetime]] = {}
        if Anchor.MEETING in anchors and state in (
            LetterState.PEDAGOGICAL_COUNCIL,
            LetterState.BOARD,
        ):
            council = _council_kind(state)
            given = set(Opinion.objects.filter(letter_id__in=ids).values_list("letter", "meeting"))
            for letter_id, meeting_id, starts_at in AgendaItem.objects.filter(
                letter_id__in=ids, meeting__council__kind=council
            ).values_list("letter_id", "meeting_id", "meeting__starts_at"):
                if (letter_id, meeting_id) in given:
                    continue
                if letter_id not in waiting_agenda or starts_at > waiting_agenda[letter_id]:
                    waiting_agenda[letter_id] = starts_at
            for establishment_id, starts_at in Meeting.objects.filter(
                council__establishment_id__in=establishments, council__kind=council
            ).values_list("council__establishment_id", "starts_at"):
                council_meetings.setdefault(establishment_id, []).append(starts_at)
            for moments in council_meetings.values():
                moments.sort()
        reminded = set(Reminder.objects.filter(letter_id__in=ids).values_list("key", flat=True))
        return cls(
            state,
            referents,
            people,
            signatures,
            entered,
            shared,
            waiting_agenda,
            council_meetings,
            reminded,
        )

    def with_role(self, letter: MissionLetter, role: str) -> list[int]:
        return self.people.get((letter.establishment_id, role), [])

    def user(self, user_id: int) -> User:
        if user_id not in self.users:
            self.users[user_id] = User.objects.get(pk=user_id)
        return self.users[user_id]


def _council_kind(state: str) -> str:
    return "pedagogical" if state == LetterState.PEDAGOGICAL_COUNCIL else "board"


def awaited_people(letter: MissionLetter, facts: SweepFacts) -> list[int]:
    """Whose action the letter waits for, in its current state (their user ids), as the
    lifecycle's table defines it."""
    referents = sorted(facts.referents.get(letter.pk, []), key=lambda r: (r.order, r.pk))
    return table_awaited_people(
        Waiting(
            letter=letter,
            referents=[(r.user_id, r.agreed_version) for r in referents],
            signatures=[
                s for s in facts.signatures.get(letter.pk, []) if s.version == letter.version
            ],
            holders=lambda role: facts.with_role(letter, role),
        )
    )


def _council_meeting_day(letter: MissionLetter, facts: SweepFacts) -> dt.date | None:
    """The day of the meeting whose opinion the letter waits for: one of its agenda that
    has not given it yet, or else the council's first meeting since the letter reached it."""
    waiting = facts.waiting_agenda.get(letter.pk)
    if waiting is not None:
        return timezone.localdate(waiting)
    entered = facts.entered.get(letter.pk)
    if entered is None:
        return None
    since = timezone.localdate(entered)
    for starts_at in facts.council_meetings.get(letter.establishment_id, []):
        if timezone.localdate(starts_at) >= since:
            return timezone.localdate(starts_at)
    return None


def anchor_date(policy: ReminderPolicy, letter: MissionLetter, facts: SweepFacts) -> dt.date | None:
    """The day ``policy`` counts from for ``letter`` (in Europe/Paris). A council's
    reminders count from its meeting: none while no meeting is scheduled."""
    if policy.anchor == Anchor.REPORT_DUE:
        return letter.establishment.academy.report_due_on(letter.school_year)
    if policy.anchor == Anchor.MEETING:
        return _council_meeting_day(letter, facts)
    moments = facts.shared if policy.anchor == Anchor.VERSION_SHARED else facts.entered
    moment = moments.get(letter.pk)
    return timezone.localdate(moment) if moment else None


@dataclass(frozen=True)
class PlanResult:
    reminders: int
    quiet_skipped: int


def _chunks(letters: QuerySet[MissionLetter], size: int) -> Iterator[list[MissionLetter]]:
    chunk: list[MissionLetter] = []
    for letter in letters.iterator(chunk_size=size):
        chunk.append(letter)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def plan_reminders(today: dt.date | None = None) -> PlanResult:
    """Create the reminders due today under every active policy. On a quiet day (a
    weekend, a public holiday where the establishment is, the school holidays of the
    académie's zone) nothing is sent: the latest
    reminder that fell due waits for the next working day. Only the latest due
    occurrence is sent, so a long pause never ends in a burst.

    Letters are read state by state, in batches whose facts (``SweepFacts``) come in a
    fixed number of queries; only a reminder actually made costs queries of its own."""
    today = today or timezone.localdate()
    calendar = QuietCalendar.load()
    created = quiet = 0
    policies: dict[str, list[ReminderPolicy]] = {}
    for policy in ReminderPolicy.objects.filter(is_active=True).order_by("state", "code"):
        policies.setdefault(policy.state, []).append(policy)
    for state, state_policies in policies.items():
        letters = (
            MissionLetter.objects.filter(state=state)
            .select_related("establishment__academy", "school_year")
            .order_by("pk")
        )
        for chunk in _chunks(letters, SWEEP_CHUNK):
            anchors = {policy.anchor for policy in state_policies}
            facts = SweepFacts.load(state, chunk, anchors)
            for policy in state_policies:
                for letter in chunk:
                    establishment = letter.establishment
                    if calendar.is_quiet(
                        today, establishment.academy.holiday_zone, establishment.department_code
                    ):
                        quiet += 1
                        continue
                    created += _remind(policy, letter, facts, today)
    return PlanResult(created, quiet)


def _remind(
    policy: ReminderPolicy, letter: MissionLetter, facts: SweepFacts, today: dt.date
) -> int:
    """The reminders ``policy`` asks for ``letter`` today (0 when none is due)."""
    anchor = anchor_date(policy, letter, facts)
    if anchor is None:
        return 0
    occurrence = latest_due_occurrence(
        anchor, today, policy.offsets_days, policy.repeat_every_days, policy.max_count
    )
    if occurrence is None:
        return 0
    number, due_on = occurrence
    awaited = awaited_people(letter, facts)
    if not awaited:
        return 0  # nobody is late: no reminder, and no escalation either
    people = (
        awaited if policy.audience == Audience.AWAITED else facts.with_role(letter, Role.PRINCIPAL)
    )
    created = 0
    for person_id in people:
        key = f"reminder:{policy.code}:{letter.pk}:{anchor.isoformat()}:{number}:{person_id}"
        if key in facts.reminded:
            continue
        facts.reminded.add(key)
        person = facts.user(person_id)
        try:
            with transaction.atomic():
                email = queue_email(
                    key=f"email:{key}",
                    recipient=person,
                    topic="reminder",
                    letter=letter,
                    what=f"{policy.label} (rappel n° {number}).",
                    why=_why(person, letter),
                )
                Reminder.objects.create(
                    key=key,
                    policy=policy,
                    letter=letter,
                    recipient=person,
                    occurrence=number,
                    due_on=due_on,
                    email=email,
                )
            created += 1
        except IntegrityError:
            continue  # another worker made it at the same moment
    return created


def open_due_reports() -> int:
    """Fire ``open_report`` as the scheduler for every letter whose report window opened.

    Only the letters of (académie, school year) pairs whose window has opened are tried,
    so the daily run does not open a transaction per letter in force all year long; the
    transition's guard still judges each one against today's date."""
    today = timezone.localdate()
    in_force = MissionLetter.objects.filter(state=LetterState.IN_FORCE)
    academies = {a.pk: a for a in Academy.objects.filter(pk__in=in_force.values("academy_id"))}
    years = {y.pk: y for y in SchoolYear.objects.filter(letters__in=in_force)}
    opened_pairs = [
        (academy_id, year_id)
        for academy_id, year_id in in_force.values_list("academy_id", "school_year_id").distinct()
        if academies[academy_id].report_window_opens_on(years[year_id]) <= today
    ]
    opened = 0
    for academy_id, year_id in opened_pairs:
        for letter_id in in_force.filter(academy_id=academy_id, school_year_id=year_id).values_list(
            "pk", flat=True
        ):
            try:
                fire_transition(letter_id=letter_id, name="open_report", user=None)
            except WorkflowError:
                continue  # already done by another worker, or the guard says not yet
            opened += 1
    return opened
