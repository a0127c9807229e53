"""The French e-mails: one layout, and for each topic its subject, what happened, what
is expected of the person, and why they receive it (DESIGN §6)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from governance.models import User
from workflow.audit.versions import Change
from workflow.models import MissionLetter

REFERENT = "vous êtes référent numérique désigné dans cette lettre de mission"
PRINCIPAL = "vous dirigez l'établissement concerné par cette lettre de mission"
SECRETARY = "vous êtes secrétaire du conseil appelé à donner son avis"
DAN = "vous suivez les lettres de mission des établissements de l'académie pour la DANE"
PARTICIPANT = "vous participez à la concertation sur cette lettre de mission"


@dataclass(frozen=True)
class Topic:
    subject: str
    what: str
    action: str
    why: str


TOPICS: dict[str, Topic] = {
    "concertation_opened": Topic(
        "Concertation ouverte sur votre lettre de mission",
        "La concertation est ouverte sur la lettre de mission.",
        "Relisez-la, commentez-la et donnez votre accord.",
        REFERENT,
    ),
    "referent_agreed": Topic(
        "Un référent a donné son accord",
        "Un référent a donné son accord sur la version en cours de la lettre de mission.",
        "Quand tous les référents sont d'accord, soumettez-la au conseil pédagogique.",
        PRINCIPAL,
    ),
    "returned_to_draft": Topic(
        "Lettre de mission revenue au brouillon",
        "La lettre de mission est reprise au brouillon.",
        "Une nouvelle concertation vous sera proposée.",
        REFERENT,
    ),
    "submitted_to_councils": Topic(
        "Lettre de mission soumise aux conseils",
        "La lettre de mission est soumise à l'avis du conseil pédagogique puis du conseil "
        "d'administration.",
        "Vous serez informé de leurs avis.",
        REFERENT,
    ),
    "opinion_requested": Topic(
        "Avis attendu sur une lettre de mission",
        "Une lettre de mission attend l'avis de votre conseil.",
        "Saisissez l'avis après la séance.",
        SECRETARY,
    ),
    "opinion_recorded": Topic(
        "Avis enregistré sur la lettre de mission",
        "L'avis d'un conseil a été enregistré sur la lettre de mission.",
        "Consultez l'avis et les votes.",
        REFERENT,
    ),
    "signature_requested": Topic(
        "Lettre de mission à signer",
        "Le conseil d'administration a rendu son avis : la lettre de mission est prête à "
        "être signée.",
        "Relisez la version présentée et signez-la.",
        REFERENT,
    ),
    "concertation_reopened": Topic(
        "Concertation rouverte",
        "La concertation est rouverte sur une nouvelle version de la lettre de mission.",
        "Relisez-la et donnez de nouveau votre accord.",
        REFERENT,
    ),
    "content_changed": Topic(
        "Lettre de mission modifiée",
        "Le contenu de la lettre de mission a changé pendant la concertation.",
        "Relisez la nouvelle version et donnez de nouveau votre accord.",
        REFERENT,
    ),
    "letter_signed": Topic(
        "Lettre de mission signée pour vous",
        "Votre adjoint a signé la lettre de mission pour vous, par délégation.",
        "Consultez les signatures données et celles qui restent attendues.",
        PRINCIPAL,
    ),
    "letter_in_force": Topic(
        "Lettre de mission en vigueur",
        "Toutes les signatures sont réunies : la lettre de mission est en vigueur.",
        "Elle est disponible en PDF dans son historique.",
        REFERENT,
    ),
    "report_due": Topic(
        "Compte rendu de mission attendu",
        "Le compte rendu de fin d'année de votre mission est ouvert.",
        "Rédigez-le avec les autres référents, puis remettez-le.",
        REFERENT,
    ),
    "report_submitted": Topic(
        "Compte rendu de mission remis",
        "Les référents ont remis le compte rendu de fin d'année.",
        "Prenez-en connaissance.",
        PRINCIPAL,
    ),
    "report_returned": Topic(
        "Compte rendu renvoyé",
        "Le compte rendu vous est renvoyé pour le compléter.",
        "Complétez-le puis remettez-le de nouveau.",
        REFERENT,
    ),
    "report_acknowledged": Topic(
        "Compte rendu reçu : lettre de mission close",
        "La réception du compte rendu est accusée ; la lettre est close et archivée.",
        "Aucune action n'est attendue.",
        REFERENT,
    ),
    "letter_withdrawn": Topic(
        "Lettre de mission abandonnée",
        "La lettre de mission est abandonnée.",
        "Aucune action n'est attendue.",
        REFERENT,
    ),
    "comment_posted": Topic(
        "Nouveau message dans la concertation",
        "Un nouveau message a été publié dans la concertation sur la lettre de mission.",
        "Lisez-le et répondez si besoin.",
        PARTICIPANT,
    ),
    "reminder": Topic(
        "Rappel : une action est attendue de vous",
        "Une lettre de mission attend une action de votre part.",
        "Rendez-vous sur la lettre pour agir.",
        PARTICIPANT,
    ),
    "reminder_requested": Topic(
        "Relance : une lettre de mission attend votre action",
        "La direction de l'établissement vous relance : la lettre de mission attend une "
        "action de votre part à son étape actuelle.",
        "Rendez-vous sur la lettre pour agir.",
        PARTICIPANT,
    ),
}


# Where each person chooses which e-mails they get, and when (the « Mes notifications »
# page): every message's footer links to it.
PREFERENCES_PATH = "/mes-notifications/"
PREFERENCES = "Pour choisir quels courriels vous recevez et quand :"

# The longest part of a person's text a message quotes (a comment, a reason, remarks):
# the rest is read on the letter's page.
QUOTED_LENGTH = 1000


def site_url(path: str) -> str:
    """``path`` (« /lettres/12/ ») on the site the links point to (``SITE_URL``)."""
    return f"{settings.SITE_URL.rstrip('/')}/{path.lstrip('/')}"


def letter_url(letter: MissionLetter) -> str:
    return site_url(f"/lettres/{letter.pk}/")


def quoted(text: str) -> str:
    """A person's text as a message quotes it: its first ``QUOTED_LENGTH`` characters."""
    text = text.strip()
    if len(text) <= QUOTED_LENGTH:
        return text
    return text[:QUOTED_LENGTH].rstrip() + " […]"


@dataclass(frozen=True)
class Fact:
    """One thing a message states: « Motif : … ». ``quote``: a person's own words,
    shown as a quotation (and escaped in HTML, like every value)."""

    label: str
    value: str
    quote: bool = False

    @property
    def lines(self) -> list[str]:
        return self.value.splitlines() or [""]


@dataclass(frozen=True)
class Details:
    """What a message says beyond its topic, gathered by the notifications' services
    from what happened (``notifications.facts``): the facts (who, what, when, why), a
    list (the signatures given), and where the person acts (``link``: a path of the
    site, with its label)."""

    facts: list[Fact] = field(default_factory=list)
    listing_label: str = ""
    listing: list[str] = field(default_factory=list)
    link: str = ""
    link_label: str = ""


@dataclass(frozen=True)
class Composed:
    """A message; ``summary``: what happened in a few plain lines (what, then the
    facts), which a daily digest lists in place of the whole message."""

    subject: str
    text: str
    html: str
    summary: str = ""


def summary(what: str, facts: list[Fact]) -> str:
    lines = [what]
    for fact in facts:
        lines.append(
            f"{fact.label} : « {fact.value} »" if fact.quote else f"{fact.label} : {fact.value}"
        )
    return "\n".join(lines)


def compose(
    topic: str,
    recipient: User,
    letter: MissionLetter | None,
    *,
    why: str | None = None,
    what: str | None = None,
    action: str | None = None,
    changes: list[Change] | None = None,
    details: Details | None = None,
) -> Composed:
    """The message of ``topic`` for ``recipient`` about ``letter``; ``changes``: what a
    new version changed, listed in the message; ``details``: the facts of what
    happened and the link to where the person acts, as the services gathered them."""
    spec = TOPICS.get(topic, TOPICS["reminder"])
    details = details or Details()
    context: dict[str, Any] = {
        "recipient": recipient,
        "name": recipient.get_full_name() or recipient.username,
        "what": what or spec.what,
        "action": action or spec.action,
        "why": why or spec.why,
        "letter": letter,
        "url": letter_url(letter) if letter is not None else site_url("/"),
        "preferences": PREFERENCES,
        "preferences_url": site_url(PREFERENCES_PATH),
        "changes": changes or [],
        "facts": details.facts,
        "listing_label": details.listing_label,
        "listing": details.listing,
        "action_url": site_url(details.link) if details.link else "",
        "action_label": details.link_label,
    }
    subject = spec.subject
    if letter is not None:
        subject = f"{subject} — {letter.establishment.name} ({letter.school_year.code})"
    return Composed(
        subject=subject,
        text=render_to_string("notifications/email.txt", context),
        html=render_to_string("notifications/email.html", context),
        summary=summary(context["what"], details.facts),
    )


def compose_digest(recipient: User, items: list[Any]) -> Composed:
    """One message listing the day's notifications of a person who chose a digest."""
    context = {
        "name": recipient.get_full_name() or recipient.username,
        "items": items,
        "why": "vous avez choisi de recevoir vos notifications en un récapitulatif quotidien",
        "preferences": PREFERENCES,
        "preferences_url": site_url(PREFERENCES_PATH),
    }
    return Composed(
        subject=f"Lettres de mission : votre récapitulatif ({len(items)} notification(s))",
        text=render_to_string("notifications/digest.txt", context),
        html=render_to_string("notifications/digest.html", context),
    )
