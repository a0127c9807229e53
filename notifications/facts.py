"""What an e-mail says beyond its topic, read from what happened: the outbox row's
audit event (who acted, in what quality, the reason, the opinion and its votes, the
signature), or the comment it announces; and where its recipient acts (the report's
page, the meeting's opinion form, the signature form, the message in the thread).

The composer (``notifications.emails.compose``) only renders these facts. Texts are
French, like every e-mail, whatever language the worker runs in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone, translation

from governance.models import CouncilKind, Meeting, User
from notifications.emails import Details, Fact, quoted
from workflow.lifecycle.councils import agenda_places
from workflow.lifecycle.engine import available_transitions
from workflow.models import (
    AuditEvent,
    Comment,
    LetterState,
    MissionLetter,
    OpinionValue,
    OutboxItem,
    Signature,
    SignatureMethod,
    SignatureQuality,
)
from workflow.selectors.actors import actor_for
from workflow.services.reminders import REMINDER_TOPIC

# How a person acted, as the audit event records it (``Actor.quality_label``).
ACTING_AS = {
    "principal": "chef d'établissement",
    "deputy_by_delegation": "adjoint, par délégation du chef d'établissement",
    "referent": "référent numérique",
    "cp_secretary": "secrétaire du conseil pédagogique",
    "ca_secretary": "secrétaire du conseil d'administration",
    "dan": "délégation académique au numérique",
}
SCHEDULER = "l'échéancier de l'application"

# The council whose opinion each step records.
OPINION_STEPS = {
    "record_pedagogical_opinion": CouncilKind.PEDAGOGICAL,
    "record_board_opinion": CouncilKind.BOARD,
}
# The step recording the opinion of the council a letter waits for, in each state.
OPINION_FORMS = {
    LetterState.PEDAGOGICAL_COUNCIL: "record_pedagogical_opinion",
    LetterState.BOARD: "record_board_opinion",
}


def when(moment: dt.datetime) -> str:
    """« 12/03/2027 à 18:00 », in the site's time zone."""
    return timezone.localtime(moment).strftime("%d/%m/%Y à %H:%M")


def who(event: AuditEvent) -> str:
    """« Claire Martin, chef d'établissement »: who acted, and in what quality."""
    if event.actor_id is None:
        return SCHEDULER
    quality = ACTING_AS.get(event.quality, "")
    return f"{event.actor_label}, {quality}" if quality else event.actor_label


def _letter_path(letter: MissionLetter, anchor: str = "", query: str = "") -> str:
    path = f"/lettres/{letter.pk}/"
    if query:
        path += f"?{query}"
    return f"{path}#{anchor}" if anchor else path


def _report_path(letter: MissionLetter) -> str:
    return f"/lettres/{letter.pk}/compte-rendu/"


def mail_details(item: OutboxItem) -> Details:
    """The facts and the link of the e-mail announcing ``item`` to its recipient."""
    with translation.override(settings.LANGUAGE_CODE):
        if item.topic == "comment_posted":
            return _comment_details(item)
        if item.event is None:
            return Details()
        if item.topic == REMINDER_TOPIC and item.recipient is not None:
            return _relance_details(item.letter, item.event, item.recipient)
        return _event_details(item.topic, item.letter, item.event)


# Comments ----------------------------------------------------------------------------------


def _comment_of(item: OutboxItem) -> Comment | None:
    """The comment a notification announces: its key names it
    (``notify:comment:<id>:comment_posted:<user>``)."""
    parts = item.key.split(":")
    if len(parts) < 3 or parts[1] != "comment" or not parts[2].isdigit():
        return None
    return (
        Comment.objects.filter(pk=int(parts[2]), letter_id=item.letter_id)
        .select_related("author", "mission", "indicator", "answers__author")
        .first()
    )


def _subject_of(comment: Comment) -> str:
    """What a comment is about: a mission, an indicator, or the whole letter."""
    if comment.mission is not None:
        return f"la mission « {comment.mission.text} »"
    if comment.indicator is not None:
        return f"l'indicateur « {comment.indicator.text} »"
    if comment.anchor_text:
        return f"« {comment.anchor_text} »"
    return "la lettre dans son ensemble"


def _author(user: User, letter: MissionLetter) -> str:
    name = user.get_full_name() or user.username
    quality = ACTING_AS.get(actor_for(user, letter).quality_label(), "")
    return f"{name}, {quality}" if quality else name


def _comment_details(item: OutboxItem) -> Details:
    comment = _comment_of(item)
    if comment is None:
        return Details()
    facts = [
        Fact("Auteur", _author(comment.author, item.letter)),
        Fact("À propos de", _subject_of(comment)),
    ]
    if comment.is_change_request:
        facts.append(Fact("Nature", "demande de modification de la lettre"))
    if comment.answers is not None:
        answered = comment.answers.author
        facts.append(
            Fact(
                "En réponse au message de",
                f"{answered.get_full_name() or answered.username} "
                f"du {when(comment.answers.created_at)}",
            )
        )
    if comment.deleted_at is not None:
        facts.append(Fact("Message", "supprimé par son auteur"))
    else:
        facts.append(Fact("Message", quoted(comment.body), quote=True))
    return Details(
        facts=facts,
        link=_letter_path(item.letter, f"message-{comment.pk}"),
        link_label="Lire le message et répondre",
    )


# Steps of the letter ---------------------------------------------------------------------


def _event_details(topic: str, letter: MissionLetter, event: AuditEvent) -> Details:
    payload: dict[str, Any] = event.payload or {}
    facts: list[Fact] = []
    listing_label, listing = "", list[str]()
    if event.action in OPINION_STEPS:
        facts += _opinion_facts(event, OPINION_STEPS[event.action], payload)
    elif event.action in ("sign", "record_paper_signature"):
        facts += _signature_facts(event, payload)
        listing_label, listing = _signatures(letter, payload.get("version"))
    elif payload.get("reason"):
        facts += [
            Fact("Motif donné par", who(event)),
            Fact("Motif", quoted(str(payload["reason"])), quote=True),
        ]
    elif event.actor_id is not None:
        facts.append(Fact("Par", who(event)))
    if topic in ("content_changed", "concertation_reopened", "returned_to_draft") and isinstance(
        payload.get("version"), int
    ):
        facts.append(Fact("Nouvelle version", str(payload["version"])))
    if topic == "opinion_requested":
        meeting = _awaited_meeting(letter, event, payload)
        if meeting is not None:
            facts.append(Fact("Avis attendu à la séance du", when(meeting.starts_at)))
    link, label = _where_to_act(topic, letter, event, payload)
    return Details(facts, listing_label, listing, link, label)


# The step each state waits for, as the topic that asks for it: where a « Relancer »
# sends its recipient to act.
_ASKED_IN: dict[str, str] = {
    LetterState.CONCERTATION: "concertation_opened",
    LetterState.PEDAGOGICAL_COUNCIL: "opinion_requested",
    LetterState.BOARD: "opinion_requested",
    LetterState.SIGNATURE: "signature_requested",
    LetterState.REPORT_DUE: "report_due",
}


def _relance_details(letter: MissionLetter, event: AuditEvent, recipient: User) -> Details:
    """« Relancer »: who asks, the letter's step and version, and what it waits for
    from ``recipient`` — the steps their À faire lists — with the page where they act."""
    actor = actor_for(recipient, letter)
    # Named as the page's buttons name them: « Donner mon accord ».
    steps = [f"« {t.label} »" for t in available_transitions(letter, recipient, actor) if t.to_do]
    facts = [
        Fact("Relancé par", who(event)),
        Fact("Étape", f"{LetterState(letter.state).label}, version {letter.version}"),
        Fact(
            "Attendu de vous",
            " ; ".join(steps) if steps else "plus rien : la lettre a avancé depuis la relance",
        ),
    ]
    topic = _ASKED_IN.get(letter.state, "")
    link, label = _where_to_act(topic, letter, event, event.payload or {})
    return Details(facts, "", [], link, label)


def _opinion_facts(event: AuditEvent, council: str, payload: dict[str, Any]) -> list[Fact]:
    facts = [Fact("Conseil", str(CouncilKind(council).label))]
    meeting = (
        Meeting.objects.filter(pk=payload["meeting"]).first()
        if isinstance(payload.get("meeting"), int)
        else None
    )
    if meeting is not None:
        facts.append(Fact("Séance du", when(meeting.starts_at)))
    if payload.get("opinion") in OpinionValue.values:
        facts.append(Fact("Avis", str(OpinionValue(payload["opinion"]).label)))
    if payload.get("votes_for") is not None:
        abstentions = payload.get("abstentions") or 0
        facts.append(
            Fact(
                "Votes",
                f"{payload['votes_for']} pour, {payload.get('votes_against') or 0} contre, "
                f"{abstentions} abstention{'s' if abstentions > 1 else ''}, "
                f"{payload.get('not_voting') or 0} ne prenant pas part au vote",
            )
        )
    if payload.get("members_present") is not None:
        present = f"{payload['members_present']}"
        if meeting is not None:
            present += f" sur {meeting.members_in_office} membres en exercice"
        if payload.get("quorum_met") is not None:
            present += " (quorum atteint)" if payload["quorum_met"] else " (quorum non atteint)"
        facts.append(Fact("Membres présents", present))
    if payload.get("remarks"):
        facts.append(Fact("Observations", quoted(str(payload["remarks"])), quote=True))
    facts.append(Fact("Saisi par", who(event)))
    return facts


def _signature_facts(event: AuditEvent, payload: dict[str, Any]) -> list[Fact]:
    """Who signed, as what, which version, when; a signature on paper names its
    signatory (not the person who recorded it) and then who recorded it."""
    paper = payload.get("method") == SignatureMethod.PAPER
    signer = str(payload.get("signer_name") or event.actor_label) if paper else event.actor_label
    facts = [Fact("Signée par", signer)]
    if payload.get("quality") in SignatureQuality.values:
        facts.append(Fact("En qualité de", str(SignatureQuality(payload["quality"]).label)))
    if payload.get("version") is not None:
        facts.append(Fact("Version signée", str(payload["version"])))
    if paper:
        facts.append(
            Fact("Signature", "manuscrite, sur la version imprimée (scan joint à la lettre)")
        )
        facts.append(Fact("Enregistrée par", who(event)))
    facts.append(Fact("Le", when(event.created_at)))
    return facts


def _signatures(letter: MissionLetter, version: object) -> tuple[str, list[str]]:
    """The signatures given on the version signed, in order."""
    if not isinstance(version, int):
        return "", []
    given = Signature.objects.filter(letter=letter, version=version).order_by("signed_at", "pk")
    return (
        f"Signatures de la version {version}",
        [f"{s.signer_name} — {s.get_quality_display()} — le {when(s.signed_at)}" for s in given],
    )


def _where_to_act(
    topic: str, letter: MissionLetter, event: AuditEvent, payload: dict[str, Any]
) -> tuple[str, str]:
    """The page (a path) where the recipient of ``topic`` acts, and its label; none
    when the letter's page is the place."""
    if topic in ("report_due", "report_returned"):
        label = "Rédiger le compte rendu" if topic == "report_due" else "Compléter le compte rendu"
        return _report_path(letter), label
    if topic in ("report_submitted", "report_acknowledged"):
        return _report_path(letter), "Lire le compte rendu"
    if topic == "signature_requested":
        return _letter_path(letter, "action-sign"), "Relire et signer la lettre"
    if topic in ("letter_signed", "letter_in_force"):
        return _letter_path(letter, "signatures-titre"), "Voir les signatures"
    if topic in ("concertation_opened", "concertation_reopened"):
        return _letter_path(letter, "action-agree"), "Relire la lettre et donner votre accord"
    if topic == "content_changed":
        version = payload.get("version")
        if isinstance(version, int) and version > 1:
            return (
                _letter_path(letter, "changements", f"depuis={version - 1}"),
                "Voir ce qui a changé et donner votre accord",
            )
    if topic == "opinion_requested":
        return _opinion_form(letter, event, payload)
    return "", ""


def _awaited_meeting(
    letter: MissionLetter, event: AuditEvent, payload: dict[str, Any]
) -> Meeting | None:
    """The meeting whose agenda the letter went on for the council's opinion: named by
    the step (the CP's when submitted, the CA's with the CP's opinion), or else found
    on the agendas."""
    key = "meeting" if event.action == "submit_to_pedagogical_council" else "board_meeting"
    if isinstance(payload.get(key), int):
        meeting = Meeting.objects.filter(pk=payload[key]).first()
        if meeting is not None:
            return meeting
    return agenda_places([letter]).get(letter.pk)


def _opinion_form(
    letter: MissionLetter, event: AuditEvent, payload: dict[str, Any]
) -> tuple[str, str]:
    """Where the council's secretary records its opinion: the opinion form of the
    meeting whose agenda the letter is on; the form of the letter's page when it is
    on none."""
    meeting = _awaited_meeting(letter, event, payload)
    if meeting is not None:
        return (
            f"/seances/{meeting.pk}/avis/",
            f"Saisir l'avis de la séance du {when(meeting.starts_at)}",
        )
    step = OPINION_FORMS.get(LetterState(event.to_state))
    if step is None:
        return "", ""
    return _letter_path(letter, f"action-{step}"), "Saisir l'avis du conseil"
