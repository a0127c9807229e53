"""The letter and everything that hangs on it.

The state column is protected: only the transition methods below change it, and only
``workflow.services.fire_transition`` calls them (with the row locked, the role and the
guards checked, the audit event and the outbox rows written in the same transaction).
The methods themselves hold no rule beyond "from which state to which": the reasons a
transition may not happen are explained by ``workflow.guards``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from governance.imp import recognition_amount, recognition_label
from governance.models import (
    Academy,
    CatalogItem,
    CouncilKind,
    Establishment,
    Meeting,
    MissionPriority,
    SchoolYear,
)


def choice_label(choices: Any, value: str | None) -> str:
    """The label of ``value`` among the ``choices`` (a ``TextChoices``), in the reader's
    language; the value itself when it is not one of them (a stored snapshot may keep a
    value retired since)."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value or ""


class LetterState(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    CONCERTATION = "concertation", _("Concertation avec le(s) référent(s)")
    PEDAGOGICAL_COUNCIL = "pedagogical_council", _("Avis du conseil pédagogique")
    BOARD = "board", _("Avis du conseil d'administration")
    SIGNATURE = "signature", _("En signature")
    IN_FORCE = "in_force", _("En vigueur")
    REPORT_DUE = "report_due", _("Compte rendu attendu")
    REPORT_SUBMITTED = "report_submitted", _("Compte rendu remis")
    CLOSED = "closed", _("Clôturée et archivée")
    WITHDRAWN = "withdrawn", _("Abandonnée")


S = LetterState
EDITABLE_STATES = frozenset({S.DRAFT, S.CONCERTATION})
BEFORE_IN_FORCE = [S.DRAFT, S.CONCERTATION, S.PEDAGOGICAL_COUNCIL, S.BOARD, S.SIGNATURE]
RENEWABLE_STATES = frozenset({S.IN_FORCE, S.REPORT_DUE, S.REPORT_SUBMITTED, S.CLOSED})


class PeriodKind(models.TextChoices):
    SCHOOL_YEAR = "school_year", _("Année scolaire")
    SEMESTER = "semester", _("Semestre")
    TRIMESTER = "trimester", _("Trimestre")
    DATES = "dates", _("Dates choisies")


class Means(models.TextChoices):
    PHONE = "phone", _("Téléphone")
    EQUIPMENT = "equipment", _("Matériel spécifique")
    OFFICE = "office", _("Bureau")
    TICKETING = "ticketing", _("Outil de gestion de tickets")
    REQUEST_LOG = "request_log", _("Cahier de demandes d'intervention")


class FollowUp(models.TextChoices):
    ANNUAL_REVIEW = "annual_review", _("Bilan annuel")
    REQUEST_LOG = "request_log", _("Cahier de demandes d'intervention")
    ACTIVITY_LIST = "activity_list", _("Liste des activités réalisées")
    TICKET_TOOL = "ticket_tool", _("Outil de gestion de tickets")


class Revised(models.Model):
    """What a thing two people may save at once carries, so that neither overwrites the
    other unseen: a revision that moves on every save, and who saved last and when, to
    name them to the other. A save based on an older revision is refused."""

    revision = models.PositiveIntegerField(
        _("révision"),
        default=1,
        help_text=_(
            "Augmente à chaque enregistrement : une modification fondée sur une révision "
            "antérieure est refusée."
        ),
    )
    revised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("dernier enregistrement par"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    revised_at = models.DateTimeField(_("dernier enregistrement le"), null=True, blank=True)

    class Meta:
        abstract = True


class MissionLetter(ConcurrentTransitionMixin, Revised):
    """The lettre de mission of one establishment's référent(s) for one school year."""

    establishment = models.ForeignKey(
        Establishment,
        verbose_name=_("établissement"),
        on_delete=models.PROTECT,
        related_name="letters",
    )
    school_year = models.ForeignKey(
        SchoolYear,
        verbose_name=_("année scolaire"),
        on_delete=models.PROTECT,
        related_name="letters",
    )
    # The establishment's, copied: the DAN's lists filter on the académie, and through
    # the establishment PostgreSQL walked the (state, id) index over the whole country.
    # ``save`` fills it; a foreign key on
    # (establishment, academy) to the establishment's (id, academy), ON UPDATE CASCADE,
    # keeps it equal to the establishment's in the database itself, even when an
    # establishment changes académie (migration 0005). Indexed in Meta.indexes.
    academy = models.ForeignKey(
        Academy,
        verbose_name=_("académie"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,
    )
    # Indexed with the id (Meta.indexes), not alone: see there.
    state = FSMField(_("état"), default=S.DRAFT, choices=S.choices, protected=True)
    version = models.PositiveIntegerField(
        _("version"),
        default=1,
        help_text=_(
            "Augmente à chaque changement du contenu après l'ouverture de la concertation."
        ),
    )
    period_kind = models.CharField(
        _("période"), max_length=12, choices=PeriodKind.choices, default=PeriodKind.SCHOOL_YEAR
    )
    period_start = models.DateField(_("début de la période"), null=True, blank=True)
    period_end = models.DateField(_("fin de la période"), null=True, blank=True)
    means = models.JSONField(_("moyens mis à disposition"), default=list, blank=True)
    means_other = models.CharField(_("autres moyens"), max_length=300, blank=True)
    follow_up = models.CharField(
        _("modalité de suivi"),
        max_length=16,
        choices=FollowUp.choices,
        default=FollowUp.ANNUAL_REVIEW,
    )
    qualification = models.TextField(_("niveau de qualification dans le numérique"), blank=True)
    dane_training = models.TextField(
        _("participation aux formations et animations de la DANE"), blank=True
    )
    audit_head = models.CharField(
        _("empreinte du dernier événement"),
        max_length=64,
        blank=True,
        editable=False,
        help_text=_("Ancre la fin de l'historique : un événement retiré se voit."),
    )
    renewed_from = models.ForeignKey(
        "self",
        verbose_name=_("reconduite de"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="renewals",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("créée par"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("lettre de mission")
        verbose_name_plural = _("lettres de mission")
        ordering = ["-school_year__starts_on", "establishment__name", "id"]
        indexes = [
            models.Index(fields=["establishment", "school_year", "state"]),
            # A list filtered on a state, newest first (the API's order): without the id
            # in the index, PostgreSQL walks the primary key backwards through every
            # newer letter of the country, and closed letters are the oldest ones.
            # Also serves every filter on the state alone.
            models.Index(fields=["state", "id"], name="letter_state_id_idx"),
            # The same within an académie, for the DAN's lists: one state across the
            # years (closed letters), one school year
            # (its page, newest first), one state in one year (its page and counts).
            models.Index(fields=["academy", "state", "id"], name="letter_academy_state_id_idx"),
            models.Index(
                fields=["academy", "school_year", "id"], name="letter_academy_year_id_idx"
            ),
            models.Index(
                fields=["academy", "school_year", "state", "id"],
                name="letter_academy_year_state_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_start__isnull=True)
                | Q(period_end__isnull=True)
                | Q(period_start__lte=models.F("period_end")),
                name="letter_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return _("Lettre de mission n° %(id)s — %(establishment)s — %(year)s") % {
            "id": self.pk,
            "establishment": self.establishment.name,
            "year": self.school_year.code,
        }

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A new letter takes its establishment's académie; afterwards the database
        keeps the two equal (see the field)."""
        if self.academy_id is None and self.establishment_id is not None:
            self.academy_id = self.establishment.academy_id
        super().save(*args, **kwargs)

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES

    # Transitions (DESIGN §4). Only "from which state to which"; see the module docstring.

    @transition(field=state, source=S.DRAFT, target=S.CONCERTATION)
    def open_concertation(self) -> None:
        pass

    @transition(field=state, source=S.CONCERTATION, target=S.CONCERTATION)
    def agree(self) -> None:
        pass

    @transition(field=state, source=S.CONCERTATION, target=S.DRAFT)
    def return_to_draft(self) -> None:
        pass

    @transition(field=state, source=S.CONCERTATION, target=S.PEDAGOGICAL_COUNCIL)
    def submit_to_pedagogical_council(self) -> None:
        pass

    @transition(field=state, source=S.PEDAGOGICAL_COUNCIL, target=S.BOARD)
    def record_pedagogical_opinion(self) -> None:
        pass

    @transition(field=state, source=S.BOARD, target=S.SIGNATURE)
    def record_board_opinion(self) -> None:
        pass

    @transition(
        field=state, source=[S.PEDAGOGICAL_COUNCIL, S.BOARD, S.SIGNATURE], target=S.CONCERTATION
    )
    def reopen_concertation(self) -> None:
        self.version += 1

    @transition(field=state, source=S.SIGNATURE, target=RETURN_VALUE(S.SIGNATURE, S.IN_FORCE))
    def sign(self, *, last_signature: bool) -> str:
        return S.IN_FORCE if last_signature else S.SIGNATURE

    @transition(field=state, source=S.SIGNATURE, target=RETURN_VALUE(S.SIGNATURE, S.IN_FORCE))
    def record_paper_signature(self, *, last_signature: bool) -> str:
        return S.IN_FORCE if last_signature else S.SIGNATURE

    @transition(field=state, source=S.IN_FORCE, target=S.REPORT_DUE)
    def open_report(self) -> None:
        pass

    @transition(field=state, source=S.REPORT_DUE, target=S.REPORT_SUBMITTED)
    def submit_report(self) -> None:
        pass

    @transition(field=state, source=S.REPORT_SUBMITTED, target=S.REPORT_DUE)
    def return_report(self) -> None:
        pass

    @transition(field=state, source=S.REPORT_SUBMITTED, target=S.CLOSED)
    def acknowledge_report(self) -> None:
        pass

    @transition(field=state, source=BEFORE_IN_FORCE, target=S.WITHDRAWN)
    def withdraw(self) -> None:
        pass


class RecognitionMode(models.TextChoices):
    IMP = "imp", _("IMP")
    DECHARGE = "decharge", _("Décharge horaire")


class LetterReferent(models.Model):
    """A référent named in the letter, with how their mission is recognised: an IMP
    amount **or** weekly décharge hours, never both (décret 2014-940 art. 3)."""

    letter = models.ForeignKey(MissionLetter, on_delete=models.CASCADE, related_name="referents")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("référent"),
        on_delete=models.PROTECT,
        related_name="referent_of",
    )
    mode = models.CharField(_("reconnaissance"), max_length=10, choices=RecognitionMode.choices)
    imp_amount = models.DecimalField(
        _("montant d'IMP (€)"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    decharge_hours = models.DecimalField(
        _("décharge hebdomadaire (h)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    share = models.CharField(_("part des missions"), max_length=300, blank=True)
    agreed_version = models.PositiveIntegerField(
        _("accord donné sur la version"), null=True, blank=True
    )
    agreed_at = models.DateTimeField(_("accord donné le"), null=True, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("référent de la lettre")
        verbose_name_plural = _("référents de la lettre")
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["letter", "user"], name="one_entry_per_referent"),
            models.CheckConstraint(
                condition=(
                    Q(mode=RecognitionMode.IMP, imp_amount__gt=0, decharge_hours__isnull=True)
                    | Q(
                        mode=RecognitionMode.DECHARGE, decharge_hours__gt=0, imp_amount__isnull=True
                    )
                ),
                name="referent_imp_or_decharge",
            ),
        ]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def amount(self) -> Decimal:
        return recognition_amount(self.imp_amount, self.decharge_hours)

    @property
    def recognition_label(self) -> str:
        """« IMP de 1 250,00 € » or « décharge de 1,5 h par semaine », in the reader's
        language."""
        return recognition_label(self.imp_amount, self.decharge_hours)


class LetterMission(models.Model):
    """A mission of the letter: a catalogue item or free text, principal or secondary,
    carried by one or more of the letter's référents."""

    letter = models.ForeignKey(MissionLetter, on_delete=models.CASCADE, related_name="missions")
    catalog_item = models.ForeignKey(
        CatalogItem,
        verbose_name=_("mission du catalogue"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    text = models.TextField(_("intitulé"))
    priority = models.CharField(_("priorité"), max_length=10, choices=MissionPriority.choices)
    referents = models.ManyToManyField(
        LetterReferent, verbose_name=_("référents"), related_name="missions", blank=True
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("mission")
        verbose_name_plural = _("missions")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.text


class LetterIndicator(models.Model):
    """An evaluation indicator agreed during concertation (seed 001)."""

    letter = models.ForeignKey(MissionLetter, on_delete=models.CASCADE, related_name="indicators")
    text = models.TextField(_("indicateur"))
    target = models.CharField(_("cible"), max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("indicateur")
        verbose_name_plural = _("indicateurs")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.text


class LetterVersion(models.Model):
    """What one version of a letter says, as it stood: the content snapshot
    (``workflow.snapshot.content_snapshot``) with every name, discipline, catalogue text,
    heading and scope flag copied in, and its sha256, which agreements and signatures
    are given on.

    While the letter is in draft its current version is the working copy, rewritten at
    each edit; from ``open_concertation`` on, a version is never changed again: a change
    of content writes the next one (``workflow.versions.write_version``). Renaming a
    person, a catalogue item or an establishment changes no version, its hash or its
    PDF."""

    letter = models.ForeignKey(MissionLetter, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    content = models.JSONField(_("contenu"))
    content_sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("établie le"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("établie par"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("version de la lettre")
        verbose_name_plural = _("versions de la lettre")
        ordering = ["letter_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["letter", "number"], name="one_row_per_version"),
        ]

    def __str__(self) -> str:
        return f"{self.letter_id} v{self.number}"


class Comment(models.Model):
    """A message of the concertation thread, optionally anchored to a mission or an
    indicator. Anchors are kept by text too, since content may be replaced later."""

    letter = models.ForeignKey(MissionLetter, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("auteur"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    body = models.TextField(_("message"))
    mission = models.ForeignKey(
        LetterMission, on_delete=models.SET_NULL, null=True, blank=True, related_name="comments"
    )
    indicator = models.ForeignKey(
        LetterIndicator, on_delete=models.SET_NULL, null=True, blank=True, related_name="comments"
    )
    anchor_text = models.TextField(_("à propos de"), blank=True)
    version = models.PositiveIntegerField(_("version commentée"))
    # Moves on every change of the message (correction, deletion, marked resolved): a
    # change based on an older revision is refused (services.comments).
    revision = models.PositiveIntegerField(_("révision"), default=1)
    created_at = models.DateTimeField(_("écrit le"), auto_now_add=True)
    # Its author may correct or delete it for a short while (services.comments). A
    # deleted message keeps its row, emptied, so that the thread shows it was there.
    edited_at = models.DateTimeField(_("corrigé le"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("supprimé le"), null=True, blank=True)
    # A référent's request to change the letter: open until the principal's side
    # answers it (a message whose ``answers`` names it) or marks it resolved.
    is_change_request = models.BooleanField(_("demande de modification"), default=False)
    answers = models.ForeignKey(
        "self",
        verbose_name=_("en réponse à"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replies",
    )
    resolved_at = models.DateTimeField(_("marquée traitée le"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("marquée traitée par"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("commentaire")
        verbose_name_plural = _("commentaires")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.author} — {self.created_at:%d/%m/%Y %H:%M}"


class OpinionValue(models.TextChoices):
    FAVORABLE = "favorable", _("Favorable")
    DEFAVORABLE = "defavorable", _("Défavorable")
    RESERVE = "reserve", _("Réservé")


class AgendaItem(models.Model):
    """A letter on a meeting's agenda."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items")
    letter = models.ForeignKey(MissionLetter, on_delete=models.CASCADE, related_name="agenda_items")

    class Meta:
        verbose_name = _("point à l'ordre du jour")
        verbose_name_plural = _("ordre du jour")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "letter"], name="letter_once_per_agenda"),
        ]

    def __str__(self) -> str:
        return f"{self.meeting} — {self.letter_id}"


class Opinion(models.Model):
    """A council's opinion on a version of a letter, given in a meeting. Councils are
    consultative: an unfavourable opinion is recorded and shown, it blocks nothing."""

    letter = models.ForeignKey(MissionLetter, on_delete=models.PROTECT, related_name="opinions")
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="opinions")
    council = models.CharField(_("conseil"), max_length=12, choices=CouncilKind.choices)
    version = models.PositiveIntegerField(_("version examinée"))
    opinion = models.CharField(_("avis"), max_length=12, choices=OpinionValue.choices)
    votes_for = models.PositiveSmallIntegerField(_("pour"), null=True, blank=True)
    votes_against = models.PositiveSmallIntegerField(_("contre"), null=True, blank=True)
    abstentions = models.PositiveSmallIntegerField(_("abstentions"), null=True, blank=True)
    not_voting = models.PositiveSmallIntegerField(
        _("ne prennent pas part au vote"), null=True, blank=True
    )
    members_present = models.PositiveSmallIntegerField(_("membres présents"), null=True, blank=True)
    quorum_met = models.BooleanField(_("quorum atteint"), null=True)
    remarks = models.TextField(_("observations"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("saisi par"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("saisi le"), auto_now_add=True)

    class Meta:
        verbose_name = _("avis")
        verbose_name_plural = _("avis")
        ordering = ["recorded_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["letter", "meeting", "version"], name="one_opinion_per_meeting_and_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_council_display()} — {self.get_opinion_display()}"


class SignatureQuality(models.TextChoices):
    PRINCIPAL = "principal", _("Le chef d'établissement")
    DEPUTY_BY_DELEGATION = (
        "deputy_by_delegation",
        _("Pour le chef d'établissement et par délégation, l'adjoint"),
    )
    REFERENT = "referent", _("Le référent numérique")


class SignatureMethod(models.TextChoices):
    ELECTRONIC = "electronic", _("Signature dans l'application")
    PAPER = "paper", _("Signature manuscrite")


class Signature(models.Model):
    """A signature of one version of the letter: who, in what quality, when, and the
    sha256 of the exact snapshot they were shown. A signatory who signed the printed
    version by hand is recorded by the principal's side with the scan of the paper
    (``method`` paper), counted like a signature given in the application."""

    letter = models.ForeignKey(MissionLetter, on_delete=models.PROTECT, related_name="signatures")
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("signataire"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The name as it stood when they signed: a signed letter names its signers forever
    # as they signed, whatever the directory says later.
    signer_name = models.CharField(_("nom du signataire"), max_length=300)
    quality = models.CharField(_("qualité"), max_length=24, choices=SignatureQuality.choices)
    version = models.PositiveIntegerField(_("version signée"))
    snapshot_sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    signed_at = models.DateTimeField(_("signée le"))
    method = models.CharField(
        _("mode de signature"),
        max_length=10,
        choices=SignatureMethod.choices,
        default=SignatureMethod.ELECTRONIC,
    )
    scan = models.FileField(
        _("scan de la page signée"), upload_to="signatures-manuscrites/%Y/", blank=True
    )
    scan_sha256 = models.CharField(_("empreinte SHA-256 du scan"), max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("enregistrée par"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["signed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["letter", "signer", "version"], name="one_signature_per_signer_and_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.signer} — {self.get_quality_display()} — v{self.version}"


class OutcomeStatus(models.TextChoices):
    DONE = "done", _("Réalisée")
    PARTLY = "partly", _("Partiellement réalisée")
    NOT_DONE = "not_done", _("Non réalisée")


# The report's closing texts, each kept with the revision it last changed at.
CLOSING_FIELDS = ("difficulties", "training_needs", "proposals")


def closing_revisions_at_creation() -> dict[str, int]:
    """A new report's closing texts: written at its first revision."""
    return dict.fromkeys(CLOSING_FIELDS, 1)


class YearEndReport(Revised):
    """The compte rendu de mission, written together by the letter's référents and sent
    to the principal and the DAN (seed 004). Pre-filled from the letter when due. Its
    own revision covers the three closing texts, and ``closing_revisions`` says at which
    revision each of them last changed, so that two référents writing two different
    texts are both kept; each mission's outcome and each indicator's result has its own
    revision."""

    letter = models.OneToOneField(MissionLetter, on_delete=models.CASCADE, related_name="report")
    difficulties = models.TextField(_("difficultés rencontrées"), blank=True)
    training_needs = models.TextField(_("besoins de formation"), blank=True)
    proposals = models.TextField(_("propositions pour l'année suivante"), blank=True)
    # {"difficulties": 4, …}: the report's revision that last changed each closing text
    # (a text not named counts as changed at the current revision).
    closing_revisions = models.JSONField(
        _("révision de chaque texte du bilan"),
        default=closing_revisions_at_creation,
        blank=True,
        editable=False,
    )
    submitted_at = models.DateTimeField(_("remis le"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("remis par"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("compte rendu de fin d'année")
        verbose_name_plural = _("comptes rendus de fin d'année")

    def __str__(self) -> str:
        return str(_("Compte rendu — lettre n° %(id)s") % {"id": self.letter_id})


class MissionOutcome(Revised):
    report = models.ForeignKey(YearEndReport, on_delete=models.CASCADE, related_name="outcomes")
    mission = models.ForeignKey(LetterMission, on_delete=models.CASCADE, related_name="outcomes")
    status = models.CharField(
        _("réalisation"), max_length=10, choices=OutcomeStatus.choices, blank=True
    )
    comment = models.TextField(_("commentaire"), blank=True)

    class Meta:
        ordering = ["mission__order", "mission_id"]
        constraints = [
            models.UniqueConstraint(fields=["report", "mission"], name="one_outcome_per_mission"),
        ]

    def __str__(self) -> str:
        return f"{self.mission} — {self.status or '?'}"


class IndicatorResult(Revised):
    report = models.ForeignKey(YearEndReport, on_delete=models.CASCADE, related_name="results")
    indicator = models.ForeignKey(LetterIndicator, on_delete=models.CASCADE, related_name="results")
    result = models.TextField(_("résultat"), blank=True)

    class Meta:
        ordering = ["indicator__order", "indicator_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "indicator"], name="one_result_per_indicator"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} — {self.result[:40]}"


class AuditEvent(models.Model):
    """One step in a letter's life, chained to the previous one by its hash.

    ``hash`` covers every stored field (see ``workflow.audit.event_hash``), so changing
    any of them, or removing an event, breaks the chain; ``verify_audit`` finds it.
    Rows are only ever inserted.
    """

    letter = models.ForeignKey(MissionLetter, on_delete=models.PROTECT, related_name="events")
    sequence = models.PositiveIntegerField(_("n°"))
    action = models.CharField(_("action"), max_length=40)
    from_state = models.CharField(_("état de départ"), max_length=24, blank=True)
    to_state = models.CharField(_("état d'arrivée"), max_length=24)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("auteur"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(_("auteur (libellé)"), max_length=200)
    quality = models.CharField(_("qualité"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("date"))
    payload = models.JSONField(_("données"), default=dict)
    snapshot = models.JSONField(_("instantané de la lettre"))
    snapshot_sha256 = models.CharField(max_length=64)
    previous_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("événement")
        verbose_name_plural = _("historique")
        ordering = ["letter_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["letter", "sequence"], name="one_event_per_sequence"),
        ]

    def __str__(self) -> str:
        return f"{self.letter_id} #{self.sequence} {self.action}"


def archive_upload_to(archive: Archive, filename: str) -> str:
    return f"archives/{archive.event.letter_id}/{filename}"


class Archive(models.Model):
    """The PDF of a letter as it stood at one audit event, stored through Django's
    storage with its sha256 (checked by ``verify_audit``)."""

    event = models.OneToOneField(AuditEvent, on_delete=models.PROTECT, related_name="archive")
    file = models.FileField(_("fichier"), upload_to=archive_upload_to, max_length=300)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField(_("taille (octets)"))
    rendered_at = models.DateTimeField(_("produit le"), auto_now_add=True)

    class Meta:
        verbose_name = _("archive")
        verbose_name_plural = _("archives")

    def __str__(self) -> str:
        return self.file.name

    @staticmethod
    def file_name(event: AuditEvent, action_label: str) -> str:
        """« 0007-signer-1a2b3c4d5e6f.pdf »: the step's number, its French name (the
        history's, ``workflow.lifecycle.table.action_label``) and the start of its hash."""
        return f"{event.sequence:04d}-{slugify(action_label)}-{event.hash[:12]}.pdf"


class SealedLetter(models.Model):
    """The signed letter as it leaves the application: its PDF sealed with the
    service's certificate (PAdES, timestamped), stored with its sha256. ``token`` names
    it in the public check's address (``/verifier/<token>/``), printed on the PDF."""

    letter = models.ForeignKey(MissionLetter, on_delete=models.PROTECT, related_name="sealed")
    version = models.PositiveIntegerField(_("version scellée"))
    token = models.CharField(_("code de vérification"), max_length=32, unique=True)
    file = models.FileField(_("fichier"), upload_to="lettres-scellees/%Y/", max_length=300)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, db_index=True)
    size = models.PositiveIntegerField(_("taille (octets)"))
    level = models.CharField(_("niveau PAdES"), max_length=8)
    sealed_at = models.DateTimeField(_("scellée le"))

    class Meta:
        verbose_name = _("lettre scellée")
        verbose_name_plural = _("lettres scellées")
        constraints = [
            models.UniqueConstraint(fields=["letter", "version"], name="one_seal_per_version"),
        ]

    def __str__(self) -> str:
        return f"{self.letter} — v{self.version}"


class AuditTimestamp(models.Model):
    """Once a day, the heads of the audit chains that moved that day, hashed together
    and timestamped by an RFC 3161 authority: rewriting an event of that day, even with
    the database in hand, no longer matches the token (``verify_audit``)."""

    day = models.DateField(_("jour"), unique=True)
    heads = models.JSONField(_("têtes des chaînes"), default=list)
    digest = models.CharField(_("empreinte SHA-256"), max_length=64)
    token = models.BinaryField(_("jeton d'horodatage"))
    authority = models.CharField(_("autorité d'horodatage"), max_length=300)
    created_at = models.DateTimeField(_("horodaté le"), auto_now_add=True)

    class Meta:
        verbose_name = _("horodatage de l'historique")
        verbose_name_plural = _("horodatages de l'historique")
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day} — {self.digest[:12]}"


class OutboxKind(models.TextChoices):
    NOTIFICATION = "notification", _("Notification")
    ARCHIVE = "archive", _("Archive PDF")
    SEAL = "seal", _("Lettre scellée")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("À traiter")
    DONE = "done", _("Traité")
    FAILED = "failed", _("En échec")


class OutboxItem(models.Model):
    """Work a transition asks for (a notification to a person, an archive to render),
    written in the transition's own transaction. The ``notifications`` app carries it
    out; ``key`` makes every request unique, so nothing is asked, or done, twice."""

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=16, choices=OutboxKind.choices)
    letter = models.ForeignKey(MissionLetter, on_delete=models.PROTECT, related_name="outbox_items")
    event = models.ForeignKey(
        AuditEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="outbox_items"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    topic = models.CharField(max_length=60, blank=True)
    status = models.CharField(
        max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("demande de traitement")
        verbose_name_plural = _("file des traitements")
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"],
                name="outbox_pending",
                condition=Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return self.key
