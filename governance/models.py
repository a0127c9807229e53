"""Governance data: who and where. Académies, establishments, school years, people
and their roles, delegations, and the mission catalogue.

Models hold data and invariants (constraints, ``clean``); writes go through
``governance/services.py`` and reads through ``governance/selectors.py``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from governance.uai import validate_uai


class User(AbstractUser):
    """A person using the platform. Personal data is kept to the minimum (DESIGN §5):
    name, professional e-mail and discipline; no NUMEN, no home address."""

    discipline = models.CharField(_("discipline"), max_length=100, blank=True)
    # A letter's content, as the API shows and caches it, carries the person's name and
    # discipline: a change of either must show (workflow.api.representations).

    # Set when the mail server refused the address for good (an SMTP 5xx): nothing more
    # is sent to it until the person changes it or an administrator clears these.
    email_failing_since = models.DateTimeField(_("adresse en échec depuis"), null=True, blank=True)
    email_failing_reason = models.CharField(
        _("raison de l'échec de l'adresse"), max_length=500, blank=True
    )
    # The address as read from the database, to tell a change of it (``save``).
    _loaded_email: str | None = None

    class Meta:
        verbose_name = _("personne")
        verbose_name_plural = _("personnes")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> User:
        instance = super().from_db(db, field_names, values)
        instance._loaded_email = instance.__dict__.get("email")
        return instance

    @property
    def email_failing(self) -> bool:
        return self.email_failing_since is not None

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A new address is a fresh start: the failure of the former one is forgotten."""
        loaded = getattr(self, "_loaded_email", None)
        if self.email_failing_since is not None and loaded is not None and self.email != loaded:
            self.email_failing_since = None
            self.email_failing_reason = ""
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {
                    *update_fields,
                    "email_failing_since",
                    "email_failing_reason",
                }
        super().save(*args, **kwargs)
        self._loaded_email = self.email


class HolidayZone(models.TextChoices):
    A = "A", _("Zone A")
    B = "B", _("Zone B")
    C = "C", _("Zone C")
    CORSE = "corse", _("Corse")
    # The overseas académies each have a calendar of their own (La Réunion's summer is
    # December and January).
    GUADELOUPE = "guadeloupe", _("Guadeloupe")
    GUYANE = "guyane", _("Guyane")
    MARTINIQUE = "martinique", _("Martinique")
    MAYOTTE = "mayotte", _("Mayotte")
    REUNION = "reunion", _("La Réunion")
    # The other territories, whose calendars the application does not load.
    OUTRE_MER = "outre_mer", _("Outre-mer")


def _validate_month_day(month: int, day: int, label: str) -> None:
    try:
        dt.date(2001, month, day)  # 2001 is not a leap year: 29 February is refused.
    except ValueError as exc:
        raise ValidationError(
            _("%(label)s : le %(day)s/%(month)s n'est pas une date valide."),
            code="invalid_month_day",
            params={"label": label, "day": day, "month": month},
        ) from exc


class Academy(models.Model):
    """An académie. It sets when the year-end report window opens and when the report
    is due (DESIGN §4: default 1 June and 30 June), and the school-holiday zone."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("nom"), max_length=120)
    holiday_zone = models.CharField(
        _("zone de vacances scolaires"),
        max_length=10,
        choices=HolidayZone.choices,
        default=HolidayZone.A,
    )
    report_opens_month = models.PositiveSmallIntegerField(
        _("mois d'ouverture du compte rendu"),
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    report_opens_day = models.PositiveSmallIntegerField(
        _("jour d'ouverture du compte rendu"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(31)],
    )
    report_due_month = models.PositiveSmallIntegerField(
        _("mois d'échéance du compte rendu"),
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    report_due_day = models.PositiveSmallIntegerField(
        _("jour d'échéance du compte rendu"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(31)],
    )

    class Meta:
        verbose_name = _("académie")
        verbose_name_plural = _("académies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        _validate_month_day(
            self.report_opens_month, self.report_opens_day, str(_("Ouverture du compte rendu"))
        )
        _validate_month_day(
            self.report_due_month, self.report_due_day, str(_("Échéance du compte rendu"))
        )

    def report_window_opens_on(self, school_year: SchoolYear) -> dt.date:
        """The day the year-end report window opens, in the school year's second half."""
        return dt.date(school_year.ends_on.year, self.report_opens_month, self.report_opens_day)

    def report_due_on(self, school_year: SchoolYear) -> dt.date:
        """The day the year-end report is due, in the school year's second half."""
        return dt.date(school_year.ends_on.year, self.report_due_month, self.report_due_day)


class EstablishmentKind(models.TextChoices):
    COLLEGE = "college", _("Collège")
    LYCEE = "lycee", _("Lycée")
    LYCEE_PROFESSIONNEL = "lp", _("Lycée professionnel")
    EREA = "erea", _("EREA")


class Establishment(models.Model):
    """An EPLE, identified by its UAI."""

    uai = models.CharField(
        _("UAI"),
        max_length=8,
        unique=True,
        validators=[validate_uai],
        help_text=_("7 chiffres et une lettre de contrôle, par exemple 0210015C."),
    )
    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("type"), max_length=10, choices=EstablishmentKind.choices)
    city = models.CharField(_("commune"), max_length=120, blank=True)
    department_code = models.CharField(
        _("code du département"), max_length=3, blank=True, help_text=_("Par exemple 021.")
    )
    department_name = models.CharField(_("département"), max_length=80, blank=True)
    closed_on = models.DateField(
        _("fermé le"),
        null=True,
        blank=True,
        help_text=_("Renseigné par l'import de l'annuaire quand l'établissement est fermé."),
    )
    local_authority = models.CharField(
        _("collectivité de rattachement"),
        max_length=200,
        help_text=_("Département pour un collège, région pour un lycée."),
    )
    academy = models.ForeignKey(
        Academy,
        verbose_name=_("académie"),
        on_delete=models.PROTECT,
        related_name="establishments",
    )

    class Meta:
        verbose_name = _("établissement")
        verbose_name_plural = _("établissements")
        ordering = ["name"]
        constraints = [
            # The check letter is validated in Python (validate_uai); the database at
            # least never holds a malformed code.
            models.CheckConstraint(
                condition=Q(uai__regex=r"^[0-9]{7}[A-Z]$"),
                name="establishment_uai_format",
            ),
            # Redundant with the primary key, on purpose: it is the target of the
            # letters' foreign key on (establishment, académie), through which
            # PostgreSQL carries an establishment's letters to its new académie
            # (workflow migration 0005).
            models.UniqueConstraint(fields=["id", "academy"], name="establishment_id_academy"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.uai})"


SCHOOL_YEAR_CODE = re.compile(r"^(\d{4})-(\d{4})$")


class SchoolYear(models.Model):
    """A school year such as ``2026-2027``. By convention it runs from 1 September to
    31 August (the IMP year), but the dates are data."""

    code = models.CharField(_("code"), max_length=9, unique=True)
    starts_on = models.DateField(_("début"))
    ends_on = models.DateField(_("fin"))

    class Meta:
        verbose_name = _("année scolaire")
        verbose_name_plural = _("années scolaires")
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__lt=models.F("ends_on")),
                name="school_year_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{4}-[0-9]{4}$"),
                name="school_year_code_format",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        match = SCHOOL_YEAR_CODE.match(self.code or "")
        if not match or int(match[2]) != int(match[1]) + 1:
            raise ValidationError(
                {
                    "code": _(
                        "Une année scolaire s'écrit « 2026-2027 » : deux années qui se suivent."
                    )
                }
            )
        if self.starts_on and self.ends_on and self.starts_on >= self.ends_on:
            raise ValidationError({"ends_on": _("La fin doit suivre le début.")})


class Role(models.TextChoices):
    """Standing roles (DESIGN §1). Being a référent is per letter, not a standing role."""

    PRINCIPAL = "principal", _("Chef d'établissement")
    DEPUTY = "deputy", _("Chef d'établissement adjoint")
    TEACHER = "teacher", _("Enseignant")
    CP_SECRETARY = "cp_secretary", _("Secrétaire du conseil pédagogique")
    CA_SECRETARY = "ca_secretary", _("Secrétaire de séance du conseil d'administration")
    DAN = "dan", _("Délégation académique au numérique")
    NATIONAL = "national", _("Direction du numérique pour l'éducation (lecture nationale)")


class RoleAssignment(models.Model):
    """A person's role in one establishment, or (for the DAN) in one académie."""

    user = models.ForeignKey(
        User,
        verbose_name=_("personne"),
        on_delete=models.CASCADE,
        related_name="role_assignments",
    )
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices)
    establishment = models.ForeignKey(
        Establishment,
        verbose_name=_("établissement"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="role_assignments",
    )
    academy = models.ForeignKey(
        Academy,
        verbose_name=_("académie"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="role_assignments",
    )

    class Meta:
        verbose_name = _("rôle")
        verbose_name_plural = _("rôles")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(role=Role.DAN, academy__isnull=False, establishment__isnull=True)
                    | Q(role=Role.NATIONAL, academy__isnull=True, establishment__isnull=True)
                    | (
                        ~Q(role__in=[Role.DAN, Role.NATIONAL])
                        & Q(establishment__isnull=False, academy__isnull=True)
                    )
                ),
                name="role_scope_matches_role",
                violation_error_message=_(
                    "Le rôle DAN se rattache à une académie, le rôle national à aucune ; les "
                    "autres rôles à un établissement."
                ),
            ),
            models.UniqueConstraint(
                fields=["user", "role", "establishment"],
                condition=Q(establishment__isnull=False),
                name="unique_role_per_establishment",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "academy"],
                condition=Q(academy__isnull=False),
                name="unique_role_per_academy",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(role="national"),
                name="one_national_role_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.establishment or self.academy}"


class Delegation(models.Model):
    """A dated delegation from a principal to a deputy: while it is active the deputy
    acts "pour le chef d'établissement et par délégation"."""

    establishment = models.ForeignKey(
        Establishment,
        verbose_name=_("établissement"),
        on_delete=models.CASCADE,
        related_name="delegations",
    )
    delegator = models.ForeignKey(
        User,
        verbose_name=_("délégant (chef d'établissement)"),
        on_delete=models.PROTECT,
        related_name="delegations_given",
    )
    delegate = models.ForeignKey(
        User,
        verbose_name=_("délégataire (adjoint)"),
        on_delete=models.PROTECT,
        related_name="delegations_received",
    )
    starts_on = models.DateField(_("à partir du"))
    ends_on = models.DateField(_("jusqu'au"))
    revoked_at = models.DateTimeField(_("révoquée le"), null=True, blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("délégation")
        verbose_name_plural = _("délégations")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__lte=models.F("ends_on")),
                name="delegation_dates_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(delegator=models.F("delegate")),
                name="delegation_not_to_self",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.delegator} → {self.delegate} ({self.starts_on} – {self.ends_on})"


class MissionPriority(models.TextChoices):
    PRINCIPAL = "principal", _("Mission principale")
    SECONDARY = "secondary", _("Mission secondaire")


class CatalogHeading(models.Model):
    """A heading of the mission catalogue (seeds 003 and 004)."""

    code = models.SlugField(_("code"), max_length=80, unique=True)
    part = models.PositiveSmallIntegerField(_("partie"))
    part_title = models.CharField(_("intitulé de la partie"), max_length=300)
    title = models.CharField(_("intitulé"), max_length=300)
    order = models.PositiveIntegerField(_("ordre"), default=0)
    # Letters' content carries the heading's title (workflow.api.representations).

    class Meta:
        verbose_name = _("rubrique du catalogue")
        verbose_name_plural = _("rubriques du catalogue")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.title


class CatalogItem(models.Model):
    """A mission a letter may list. Items outside a référent's technico-pedagogical
    scope (DSI, contractor, ATTEE, local authority) may still be chosen, with a warning
    (seed 003). Retired items are deactivated, never deleted: letters refer to them."""

    heading = models.ForeignKey(
        CatalogHeading,
        verbose_name=_("rubrique"),
        on_delete=models.PROTECT,
        related_name="items",
    )
    code = models.SlugField(_("code"), max_length=80, unique=True)
    text = models.TextField(_("intitulé"))
    priority_hint = models.CharField(
        _("priorité suggérée"),
        max_length=10,
        choices=MissionPriority.choices,
        default=MissionPriority.SECONDARY,
    )
    outside_scope = models.BooleanField(
        _("hors du périmètre du référent"),
        default=False,
        help_text=_("Relève de la DSI, d'un prestataire, des ATTEE ou de la collectivité."),
    )
    scope_note = models.CharField(_("précision sur le périmètre"), max_length=300, blank=True)
    order = models.PositiveIntegerField(_("ordre"), default=0)
    is_active = models.BooleanField(_("proposée"), default=True)
    # Letters' content carries the item's code and scope (workflow.api.representations).

    class Meta:
        verbose_name = _("mission du catalogue")
        verbose_name_plural = _("missions du catalogue")
        ordering = ["heading__order", "order", "id"]

    def __str__(self) -> str:
        return self.text


class CouncilKind(models.TextChoices):
    PEDAGOGICAL = "pedagogical", _("Conseil pédagogique")
    BOARD = "board", _("Conseil d'administration")


class Council(models.Model):
    """One of an establishment's two councils, with its number of members in office
    (the CA: 24 or 30 by R421-16)."""

    establishment = models.ForeignKey(
        Establishment,
        verbose_name=_("établissement"),
        on_delete=models.CASCADE,
        related_name="councils",
    )
    kind = models.CharField(_("conseil"), max_length=12, choices=CouncilKind.choices)
    members_in_office = models.PositiveSmallIntegerField(
        _("membres en exercice"), validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = _("conseil")
        verbose_name_plural = _("conseils")
        constraints = [
            models.UniqueConstraint(fields=["establishment", "kind"], name="one_council_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.establishment.name}"


class Meeting(models.Model):
    """A séance of a council. Its agenda (the letters it gives an opinion on) and the
    opinions themselves belong to the workflow, which knows the letters."""

    council = models.ForeignKey(
        Council, verbose_name=_("conseil"), on_delete=models.PROTECT, related_name="meetings"
    )
    starts_at = models.DateTimeField(_("date et heure"))
    convocation = models.PositiveSmallIntegerField(
        _("convocation"),
        default=1,
        choices=[(1, _("Première convocation")), (2, _("Seconde convocation"))],
    )
    members_in_office = models.PositiveSmallIntegerField(
        _("membres en exercice"),
        validators=[MinValueValidator(1)],
        help_text=_("Au jour de la séance ; repris du conseil par défaut."),
    )
    location = models.CharField(_("lieu"), max_length=200, blank=True)
    minutes_reference = models.CharField(
        _("référence du procès-verbal"), max_length=100, blank=True
    )

    class Meta:
        verbose_name = _("séance")
        verbose_name_plural = _("séances")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(convocation__in=[1, 2]), name="meeting_convocation_1_or_2"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.council} — {self.starts_at:%d/%m/%Y}"

    @property
    def establishment(self) -> Establishment:
        return self.council.establishment
