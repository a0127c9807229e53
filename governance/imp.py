"""The rules of the indemnité pour mission particulière (IMP), as plain functions.

Sources (DESIGN §5, shared/notes/domain.md §1):
- arrêté du 27 avril 2015: five annual rates, 312,50 € (¼) to 3 750 €;
- an IMP may be shared, but not below ¼ per person: every amount is a positive
  multiple of 312,50 €;
- for the référent numérique missions, an establishment's total for a school year lies
  between 1 250 € and 3 750 € (above is an error, below a warning); académies vary, so
  the bounds are settings;
- a weekly hour of décharge counts towards that envelope at a conventional rate
  (no official one exists), a setting too;
- one person's mission is recognised by an IMP **or** by a décharge, never both.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

QUARTER_RATE = Decimal("312.50")
IMP_RATES = (
    Decimal("312.50"),
    Decimal("625.00"),
    Decimal("1250.00"),
    Decimal("2500.00"),
    Decimal("3750.00"),
)
CENT = Decimal("0.01")
# A full weekly teaching service (certifié): no décharge can exceed it.
MAX_DECHARGE_HOURS = Decimal("18")
NARROW_NBSP = "\u202f"
NBSP = "\u00a0"


@dataclass(frozen=True)
class RuleFinding:
    """One rule's verdict on some amounts: a blocking error or a warning to show."""

    code: str
    message: str
    blocking: bool


def _beyond_any_amount(value: Decimal) -> bool:
    """A quintillion (euros or hours) and up, typed or sent in error: to the cent it
    would exceed the decimal context's 28 digits (``InvalidOperation``, a 500)."""
    return value.is_finite() and value.adjusted() >= 18


def to_cents(value: Decimal) -> Decimal:
    """``value`` rounded to the cent; beyond any amount, ``value`` as it is (the rules
    still compare it, and refuse it)."""
    return value if _beyond_any_amount(value) else value.quantize(CENT)


def format_euros(amount: Decimal) -> str:
    """``Decimal("1250")`` → ``"1 250,00 €"``, the French way (narrow no-break space
    between thousands, no-break space before the sign); beyond any amount, in scientific
    notation (``"1,00E+30 €"``)."""
    value = Decimal(amount)
    if _beyond_any_amount(value):
        return f"{value:.2E}".replace(".", ",") + f"{NBSP}€"
    quantized = value.quantize(CENT)
    sign = "-" if quantized < 0 else ""
    units, cents = f"{abs(quantized):.2f}".split(".")
    groups: list[str] = []
    while units:
        groups.insert(0, units[-3:])
        units = units[:-3]
    return f"{sign}{NARROW_NBSP.join(groups)},{cents}{NBSP}€"


def recognition_label(
    imp_amount: Decimal | str | None, decharge_hours: Decimal | str | None
) -> str:
    """« IMP de 1 250,00 € » or « décharge de 1,5 h par semaine », in the reader's
    language, from the amounts as stored (decimals, or their text in a snapshot)."""
    if imp_amount is not None:
        return _("IMP de %(amount)s") % {"amount": format_euros(Decimal(imp_amount))}
    hours = format(Decimal(decharge_hours or 0).normalize(), "f")
    return _("décharge de %(hours)s h par semaine") % {"hours": hours.replace(".", ",")}


def _as_decimal(value: object, field: str) -> Decimal:
    """A finite number, or the French error: ``NaN`` and ``Infinity`` parse as decimals
    but are no amount (and would raise later, in a comparison)."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        number = Decimal("NaN")
    if not number.is_finite():
        raise ValidationError(
            _("%(field)s : « %(value)s » n'est pas un nombre."),
            code="not_a_number",
            params={"field": field, "value": value},
        )
    return number


def validate_imp_amount(amount: object) -> None:
    """An IMP amount must be a positive multiple of a quarter rate (312,50 €)."""
    value = _as_decimal(amount, _("Montant d'IMP"))
    if value <= 0:
        raise ValidationError(_("Le montant d'IMP doit être positif."), code="imp_not_positive")
    maximum: Decimal = settings.IMP_ENVELOPE_MAX
    if value > maximum:
        raise ValidationError(
            _(
                "Le montant d'IMP %(amount)s dépasse ce qu'une personne peut recevoir pour "
                "cette mission : l'enveloppe entière de l'établissement, %(maximum)s."
            ),
            code="imp_too_large",
            params={"amount": format_euros(value), "maximum": format_euros(maximum)},
        )
    if value % QUARTER_RATE != 0:
        raise ValidationError(
            _(
                "Le montant d'IMP %(amount)s n'est pas un multiple de 312,50 € "
                "(¼ d'IMP, la plus petite part possible)."
            ),
            code="imp_not_quarter_multiple",
            params={"amount": format_euros(value)},
        )


def validate_decharge_hours(hours: object) -> None:
    """A weekly décharge is a positive number of hours, to the hundredth at most."""
    value = _as_decimal(hours, _("Décharge hebdomadaire"))
    if value <= 0:
        raise ValidationError(
            _("La décharge hebdomadaire doit être un nombre d'heures positif."),
            code="decharge_not_positive",
        )
    if value != to_cents(value):
        raise ValidationError(
            _("La décharge hebdomadaire s'exprime au plus au centième d'heure."),
            code="decharge_precision",
        )
    if value > MAX_DECHARGE_HOURS:
        raise ValidationError(
            _(
                "Une décharge de %(hours)s h par semaine dépasse un service complet "
                "(%(maximum)s h)."
            ),
            code="decharge_too_large",
            params={"hours": value, "maximum": MAX_DECHARGE_HOURS},
        )


def decharge_amount(hours: Decimal, rate: Decimal | None = None) -> Decimal:
    """What ``hours`` of weekly décharge weigh in the envelope, in euros."""
    hour_rate = settings.DECHARGE_HOUR_RATE if rate is None else rate
    return to_cents(Decimal(hours) * hour_rate)


def validate_recognition(imp_amount: Decimal | None, decharge_hours: Decimal | None) -> None:
    """One person's mission is recognised by an IMP or by a décharge: exactly one."""
    if imp_amount is not None and decharge_hours is not None:
        raise ValidationError(
            _(
                "Une même personne ne peut pas recevoir à la fois une IMP et une décharge "
                "pour cette mission : choisissez l'une ou l'autre."
            ),
            code="imp_and_decharge",
        )
    if imp_amount is None and decharge_hours is None:
        raise ValidationError(
            _("Indiquez la reconnaissance de la mission : un montant d'IMP ou une décharge."),
            code="recognition_missing",
        )
    if imp_amount is not None:
        validate_imp_amount(imp_amount)
    else:
        validate_decharge_hours(decharge_hours)


def recognition_amount(imp_amount: Decimal | None, decharge_hours: Decimal | None) -> Decimal:
    """The envelope weight of one person's recognition (IMP, or décharge converted)."""
    validate_recognition(imp_amount, decharge_hours)
    if imp_amount is not None:
        return to_cents(Decimal(imp_amount))
    assert decharge_hours is not None
    return decharge_amount(decharge_hours)


def envelope_weight(imp_amount: Decimal | None, decharge_hours: Decimal | None) -> Decimal:
    """What a stored recognition weighs in the envelope, without judging it (a reader of
    stored rows must not fail on a row that a rule would now refuse)."""
    if imp_amount is not None:
        return Decimal(imp_amount)
    if decharge_hours is not None:
        return decharge_amount(decharge_hours)
    return Decimal("0")


class EnvelopePosition(models.TextChoices):
    """Where an establishment's total for a school year stands against the envelope."""

    BELOW = "below", gettext_lazy("sous le minimum")
    WITHIN = "ok", gettext_lazy("dans les bornes")
    ABOVE = "above", gettext_lazy("au-dessus du maximum")


def envelope_position(total: Decimal) -> EnvelopePosition:
    """The envelope rule itself: below ``IMP_ENVELOPE_MIN``, above ``IMP_ENVELOPE_MAX``,
    or within. Cheap, for tables that judge hundreds of totals."""
    total = to_cents(total)
    if total > settings.IMP_ENVELOPE_MAX:
        return EnvelopePosition.ABOVE
    if total < settings.IMP_ENVELOPE_MIN:
        return EnvelopePosition.BELOW
    return EnvelopePosition.WITHIN


def check_envelope(amounts: Iterable[Decimal]) -> list[RuleFinding]:
    """Judge an establishment's total for a school year against the envelope bounds."""
    total = to_cents(sum((Decimal(a) for a in amounts), Decimal("0")))
    minimum: Decimal = settings.IMP_ENVELOPE_MIN
    maximum: Decimal = settings.IMP_ENVELOPE_MAX
    position = envelope_position(total)
    if position == EnvelopePosition.ABOVE:
        return [
            RuleFinding(
                code="above_envelope_maximum",
                message=_(
                    "Le total de %(total)s dépasse l'enveloppe maximale de %(maximum)s "
                    "pour les missions de référent numérique de l'établissement."
                )
                % {"total": format_euros(total), "maximum": format_euros(maximum)},
                blocking=True,
            )
        ]
    if position == EnvelopePosition.BELOW:
        return [
            RuleFinding(
                code="below_envelope_minimum",
                message=_(
                    "Le total de %(total)s est inférieur à l'enveloppe minimale de "
                    "%(minimum)s recommandée pour les missions de référent numérique."
                )
                % {"total": format_euros(total), "minimum": format_euros(minimum)},
                blocking=False,
            )
        ]
    return []
