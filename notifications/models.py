"""Notifications, reminders and e-mails (DESIGN §6). Archives are the workflow's
(``workflow.models.Archive``); the sweeps here render them.

The database is the source of truth: every e-mail to send and every archive to render is
a row with a unique key and a status, so the sweeps can be run any number of times, by
any number of workers, and never do a thing twice. Redis only carries the work.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from governance.models import HolidayZone
from workflow.models import LetterState, MissionLetter


class DeliveryMode(models.TextChoices):
    IMMEDIATE = "immediate", _("Un courriel à chaque fois")
    DIGEST = "digest", _("Un récapitulatif quotidien")


DEFAULT_DIGEST_HOUR = 17


class NotificationPreference(models.Model):
    """How a person wants to be told. Without a row: immediately. ``mode`` is the
    general choice; ``kinds`` overrides it for some kinds of notification (kind →
    ``immediate``, ``digest`` or ``none``), as ``notifications.preferences`` defines and
    validates them. Requests to act are sent at once whatever is chosen."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    mode = models.CharField(
        _("réception"), max_length=10, choices=DeliveryMode.choices, default=DeliveryMode.IMMEDIATE
    )
    digest_hour = models.PositiveSmallIntegerField(
        _("heure du récapitulatif"),
        default=DEFAULT_DIGEST_HOUR,
        validators=[MaxValueValidator(23)],
        help_text=_("Heure de Paris, de 0 à 23."),
    )
    kinds = models.JSONField(_("choix par sorte de notification"), default=dict, blank=True)

    class Meta:
        verbose_name = _("préférence de notification")
        verbose_name_plural = _("préférences de notification")

    def __str__(self) -> str:
        return f"{self.user} — {self.get_mode_display()}"


class Anchor(models.TextChoices):
    """The moment a reminder policy counts from."""

    STATE_ENTERED = "state_entered", _("Entrée dans l'état")
    VERSION_SHARED = "version_shared", _("Version soumise à la concertation")
    MEETING = "meeting", _("Séance du conseil")
    REPORT_DUE = "report_due", _("Échéance du compte rendu")


class Audience(models.TextChoices):
    AWAITED = "awaited", _("Les personnes dont l'action est attendue")
    PRINCIPAL = "principal", _("Le chef d'établissement (escalade)")


class ReminderPolicy(models.Model):
    """When to remind whom of what, for letters in one state (DESIGN §6). Data, edited
    in the admin. Reminders fall on ``offsets_days`` after the anchor (negative: before),
    then every ``repeat_every_days``, ``max_count`` times at most. An escalation is a
    policy whose audience is the principal."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    label = models.CharField(_("intitulé"), max_length=200)
    state = models.CharField(_("état de la lettre"), max_length=24, choices=LetterState.choices)
    anchor = models.CharField(_("à compter de"), max_length=20, choices=Anchor.choices)
    audience = models.CharField(_("destinataires"), max_length=12, choices=Audience.choices)
    offsets_days = models.JSONField(
        _("premiers rappels (jours après l'ancrage)"),
        default=list,
        help_text=_("Par exemple [7], ou [-14, -7, -1] pour J-14, J-7 et J-1."),
    )
    repeat_every_days = models.PositiveSmallIntegerField(
        _("puis tous les (jours)"), null=True, blank=True
    )
    max_count = models.PositiveSmallIntegerField(_("nombre maximal de rappels"), default=6)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("règle de relance")
        verbose_name_plural = _("règles de relance")
        ordering = ["state", "code"]

    def __str__(self) -> str:
        return self.label


class QuietPeriod(models.Model):
    """School holidays of a zone: no reminder is sent then; it waits for the next working
    day. Weekends are always quiet."""

    zone = models.CharField(_("zone"), max_length=10, choices=HolidayZone.choices)
    label = models.CharField(_("intitulé"), max_length=120)
    starts_on = models.DateField(_("du"))
    ends_on = models.DateField(_("au"))

    class Meta:
        verbose_name = _("période de vacances")
        verbose_name_plural = _("périodes de vacances")
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__lte=models.F("ends_on")), name="quiet_period_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_zone_display()})"


class EmailStatus(models.TextChoices):
    PENDING = "pending", _("À envoyer")
    HELD = "held", _("Réservé au récapitulatif")
    SENDING = "sending", _("En cours d'envoi")
    SENT = "sent", _("Envoyé")
    DIGESTED = "digested", _("Inclus dans un récapitulatif")
    DROPPED = "dropped", _("Non envoyé : la personne n'en veut pas")
    FAILED = "failed", _("En échec")


class Email(models.Model):
    """One e-mail to one person. Sent at least once and, short of a crash between the
    SMTP server's answer and the commit that follows, exactly once."""

    key = models.CharField(max_length=200, unique=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="emails"
    )
    to_address = models.EmailField(_("adresse"))
    subject = models.CharField(_("objet"), max_length=300)
    body_text = models.TextField(_("texte"))
    body_html = models.TextField(_("HTML"))
    # What happened, in a few lines: what a daily digest shows of this message.
    summary = models.TextField(_("résumé"), blank=True)
    topic = models.CharField(_("sujet"), max_length=60)
    letter = models.ForeignKey(
        MissionLetter, on_delete=models.PROTECT, null=True, blank=True, related_name="emails"
    )
    status = models.CharField(
        _("état"), max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    next_attempt_at = models.DateTimeField(_("prochaine tentative"), null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    digest = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="digested"
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("courriel")
        verbose_name_plural = _("courriels")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="email_pending",
                condition=Q(status="pending"),
            ),
            models.Index(fields=["status", "claimed_at"], name="email_status_claimed"),
        ]

    def __str__(self) -> str:
        return f"{self.to_address} — {self.subject}"


class Reminder(models.Model):
    """One occurrence of a reminder policy for one person about one letter. The key
    makes it unique: two sweeps, or two workers, never remind twice."""

    key = models.CharField(max_length=200, unique=True)
    policy = models.ForeignKey(ReminderPolicy, on_delete=models.PROTECT, related_name="reminders")
    letter = models.ForeignKey(MissionLetter, on_delete=models.CASCADE, related_name="reminders")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reminders"
    )
    occurrence = models.PositiveSmallIntegerField(_("n°"))
    due_on = models.DateField(_("prévu le"))
    email = models.OneToOneField(
        Email, on_delete=models.SET_NULL, null=True, blank=True, related_name="reminder"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("relance")
        verbose_name_plural = _("relances")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.key
