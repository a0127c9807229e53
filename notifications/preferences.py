"""Each person's choice of how they are told (DESIGN §6): immediate e-mails or one daily
digest at the hour they choose, and, per kind of notification, immediately, in the
digest or not at all. Requests to act are always sent at once, whatever the choice.

The one place that reads and writes these choices, and validates them: the page
(``notifications.views``) and the API (``notifications.api``) both go through
``update_preferences``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.models import User
from notifications.models import DEFAULT_DIGEST_HOUR, DeliveryMode, NotificationPreference
from workflow.errors import InvalidInput


class Kind(models.TextChoices):
    """The kinds of notification a person may choose for, each grouping topics of
    ``notifications.emails.TOPICS``."""

    COMMENTS = "comments", _("Messages de la concertation")
    CONCERTATION = "concertation", _("Accords, versions et soumission aux conseils")
    COUNCILS = "councils", _("Avis des conseils")
    SIGNATURES = "signatures", _("Signatures et entrée en vigueur")
    REPORT = "report", _("Compte rendu de fin d'année remis ou reçu")
    LETTER = "letter", _("Abandon d'une lettre")


class Delivery(models.TextChoices):
    """What a person chose for one kind; ``default`` follows their general choice."""

    DEFAULT = "default", _("Comme le réglage général")
    IMMEDIATE = "immediate", _("Un courriel à chaque fois")
    DIGEST = "digest", _("Dans le récapitulatif quotidien")
    NONE = "none", _("Aucun courriel")


# What each kind holds, as the « Mes notifications » page explains it.
KIND_HINTS: dict[str, Any] = {
    Kind.COMMENTS: _("Un message publié dans la concertation sur une lettre."),
    Kind.CONCERTATION: _(
        "L'accord d'un référent, une nouvelle version de la lettre, son retour au brouillon, "
        "sa soumission aux conseils."
    ),
    Kind.COUNCILS: _(
        "L'avis du conseil pédagogique ou du conseil d'administration, une fois saisi."
    ),
    Kind.SIGNATURES: _(
        "Une signature donnée pour vous par délégation, l'entrée en vigueur de la lettre."
    ),
    Kind.REPORT: _("Le compte rendu remis par les référents, puis son accusé de réception."),
    Kind.LETTER: _("L'abandon d'une lettre de mission."),
}

KIND_TOPICS: dict[str, frozenset[str]] = {
    Kind.COMMENTS: frozenset({"comment_posted"}),
    Kind.CONCERTATION: frozenset(
        {"referent_agreed", "content_changed", "returned_to_draft", "submitted_to_councils"}
    ),
    Kind.COUNCILS: frozenset({"opinion_recorded"}),
    Kind.SIGNATURES: frozenset({"letter_signed", "letter_in_force"}),
    Kind.REPORT: frozenset({"report_submitted", "report_acknowledged"}),
    Kind.LETTER: frozenset({"letter_withdrawn"}),
}

# Requests to act and reminders: always sent at once. A topic that no kind groups is
# sent at once too, so that a new request to act is never held back; a new topic that
# only informs belongs to a kind (tests/notifications/test_preferences.py checks that
# every topic is one or the other).
ALWAYS_SENT: frozenset[str] = frozenset(
    {
        "concertation_opened",
        "concertation_reopened",
        "opinion_requested",
        "signature_requested",
        "report_due",
        "report_returned",
        "reminder",
        "reminder_requested",
    }
)

_KIND_OF: dict[str, str] = {topic: kind for kind, topics in KIND_TOPICS.items() for topic in topics}

HOURS = range(24)


def kind_of(topic: str) -> str | None:
    """The kind a topic belongs to; None for the topics always sent at once."""
    return _KIND_OF.get(topic)


@dataclass(frozen=True)
class Preferences:
    mode: str
    digest_hour: int
    kinds: dict[str, str]  # every kind → a ``Delivery`` value

    def delivery(self, topic: str) -> str:
        """``immediate``, ``digest`` or ``none`` for a notification of ``topic``."""
        kind = kind_of(topic)
        if kind is None:
            return Delivery.IMMEDIATE
        chosen = self.kinds.get(kind, Delivery.DEFAULT)
        if chosen == Delivery.DEFAULT:
            return Delivery.DIGEST if self.mode == DeliveryMode.DIGEST else Delivery.IMMEDIATE
        return chosen

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "digest_hour": self.digest_hour,
            "kinds": dict(self.kinds),
            "always_sent": sorted(ALWAYS_SENT),
        }


def _from_row(row: NotificationPreference | None) -> Preferences:
    stored = row.kinds if row is not None and isinstance(row.kinds, dict) else {}
    kinds = {
        kind: stored[kind] if stored.get(kind) in Delivery.values else Delivery.DEFAULT
        for kind in Kind.values
    }
    if row is None:
        return Preferences(DeliveryMode.IMMEDIATE, DEFAULT_DIGEST_HOUR, kinds)
    return Preferences(row.mode, row.digest_hour, kinds)


def preferences_of(user: User) -> Preferences:
    """The person's choices; without a row: everything immediately, digest at 17 h."""
    return _from_row(NotificationPreference.objects.filter(user=user).first())


def preferences_for(user_ids: list[int]) -> dict[int, Preferences]:
    """Several people's choices in one query (the digest sweep)."""
    rows = {p.user_id: p for p in NotificationPreference.objects.filter(user_id__in=user_ids)}
    return {user_id: _from_row(rows.get(user_id)) for user_id in user_ids}


def delivery_for(user: User, topic: str) -> str:
    """How a notification of ``topic`` reaches ``user``: ``immediate``, ``digest`` or
    ``none``. Requests to act are always ``immediate``."""
    if kind_of(topic) is None:
        return Delivery.IMMEDIATE
    return preferences_of(user).delivery(topic)


_UNSET: Any = object()


def _hour(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdecimal() and len(value.strip()) <= 2:
        value = int(value.strip())
    if isinstance(value, int) and value in HOURS:
        return value
    return None


def update_preferences(
    user: User, *, mode: Any = _UNSET, digest_hour: Any = _UNSET, kinds: Any = _UNSET
) -> Preferences:
    """Change what is given, keep the rest. Every value is checked here: a wrong one
    raises ``InvalidInput`` (field → French messages naming the field by its label),
    and nothing is changed."""
    errors: dict[str, list[str]] = {}
    current = preferences_of(user)
    new_mode, new_hour, new_kinds = current.mode, current.digest_hour, dict(current.kinds)
    if mode is not _UNSET:
        if isinstance(mode, str) and mode in DeliveryMode.values:
            new_mode = mode
        else:
            errors["mode"] = [
                gettext("Réception : choisissez « %(immediate)s » ou « %(digest)s ».")
                % {"immediate": DeliveryMode.IMMEDIATE.label, "digest": DeliveryMode.DIGEST.label}
            ]
    if digest_hour is not _UNSET:
        hour = _hour(digest_hour)
        if hour is None:
            errors["digest_hour"] = [
                gettext("Heure du récapitulatif : choisissez une heure entière de 0 à 23.")
            ]
        else:
            new_hour = hour
    if kinds is not _UNSET:
        if not isinstance(kinds, dict):
            errors["kinds"] = [
                gettext(
                    "Choix par sorte de notification : attendu un objet "
                    '{sorte : choix}, par exemple {"comments": "digest"}.'
                )
            ]
        else:
            for kind, chosen in kinds.items():
                if kind not in Kind.values:
                    errors.setdefault("kinds", []).append(
                        gettext(
                            "Sorte de notification inconnue : « %(kind)s » (connues : %(known)s)."
                        )
                        % {"kind": str(kind)[:60], "known": ", ".join(Kind.values)}
                    )
                elif not isinstance(chosen, str) or chosen not in Delivery.values:
                    errors[f"kinds.{kind}"] = [
                        gettext(
                            "%(label)s : choisissez « %(immediate)s », « %(digest)s », "
                            "« %(none)s » ou « %(default)s »."
                        )
                        % {
                            "label": Kind(kind).label,
                            "immediate": Delivery.IMMEDIATE.label,
                            "digest": Delivery.DIGEST.label,
                            "none": Delivery.NONE.label,
                            "default": Delivery.DEFAULT.label,
                        }
                    ]
                else:
                    new_kinds[kind] = chosen
    if errors:
        raise InvalidInput(errors, detail=next(iter(errors.values()))[0])
    with transaction.atomic():
        NotificationPreference.objects.update_or_create(
            user=user,
            defaults={
                "mode": new_mode,
                "digest_hour": new_hour,
                "kinds": {k: v for k, v in new_kinds.items() if v != Delivery.DEFAULT},
            },
        )
    return Preferences(new_mode, new_hour, new_kinds)
