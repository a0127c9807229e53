"""Writes to letters. ``fire_transition`` is the only way a letter's state changes;
the other services edit content, comment, fill the report and renew a letter.

Every write that matters to the letter's history happens in one transaction with its
audit event and its outbox rows (DESIGN §4, §6). Mail and PDFs are not made here: the
``notifications`` app carries out the outbox rows after commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed

from governance.imp import validate_recognition
from governance.models import (
    CatalogItem,
    Establishment,
    Meeting,
    MissionPriority,
    Role,
    RoleAssignment,
    SchoolYear,
    User,
)
from workflow.actors import SYSTEM, Actor, actor_for
from workflow.audit import record_event
from workflow.errors import (
    ConditionsUnmet,
    InvalidInput,
    LetterExists,
    LetterNotFound,
    NotEditable,
    NotPermitted,
    StaleVersion,
    TransitionNotAllowed,
    UnknownTransition,
    WorkflowError,
)
from workflow.models import (
    RENEWABLE_STATES,
    AuditEvent,
    Comment,
    FollowUp,
    IndicatorResult,
    LetterIndicator,
    LetterMission,
    LetterReferent,
    LetterState,
    Means,
    MissionLetter,
    MissionOutcome,
    OutboxItem,
    OutboxKind,
    OutcomeStatus,
    PeriodKind,
    RecognitionMode,
    YearEndReport,
)
from workflow.selectors import opinion_recorders_meetings
from workflow.snapshot import content_sha256
from workflow.transitions import TRANSITIONS, Recipients, TransitionSpec
from workflow.versions import write_version


def _locked_letter(letter_id: int) -> MissionLetter:
    letter = (
        MissionLetter.objects.select_for_update(of=("self",))
        .select_related("establishment__academy", "school_year")
        .filter(pk=letter_id)
        .first()
    )
    if letter is None:
        raise LetterNotFound(_("Lettre de mission introuvable."))
    return letter


def _actor(user: User | None, letter: MissionLetter) -> Actor:
    actor = SYSTEM if user is None else actor_for(user, letter)
    if not actor.can_see:
        raise LetterNotFound(_("Lettre de mission introuvable."))
    return actor


def _kick_outbox() -> None:
    """Ask a worker to carry out the outbox now. Called after commit, robustly: if the
    broker is down this logs and returns, and the periodic sweep does the work later.
    The task is named, not imported: ``notifications`` depends on ``workflow``, never
    the other way round."""
    if settings.OUTBOX_KICK_ENABLED:
        current_app.send_task(settings.OUTBOX_KICK_TASK, retry=False, ignore_result=True)


def _write_outbox(event: AuditEvent, recipients: Recipients, actor: Actor) -> None:
    """The archive of this step, and one notification per person told (never the
    person who acted). Keys make each request unique."""
    items = [
        OutboxItem(
            key=f"archive:event:{event.pk}",
            kind=OutboxKind.ARCHIVE,
            letter_id=event.letter_id,
            event=event,
        )
    ]
    seen: set[tuple[int, str]] = set()
    for user, topic in recipients:
        if (user.pk, topic) in seen or (actor.user is not None and user.pk == actor.user.pk):
            continue
        seen.add((user.pk, topic))
        items.append(
            OutboxItem(
                key=f"notify:event:{event.pk}:{topic}:{user.pk}",
                kind=OutboxKind.NOTIFICATION,
                letter_id=event.letter_id,
                event=event,
                recipient=user,
                topic=topic,
            )
        )
    OutboxItem.objects.bulk_create(items)
    transaction.on_commit(_kick_outbox, robust=True)


def _parse_payload(spec: TransitionSpec, payload: Mapping[str, Any] | None) -> dict[str, Any]:
    form = spec.payload(data=dict(payload or {}))
    if not form.is_valid():
        raise InvalidInput(
            {name: [str(m) for m in messages] for name, messages in form.errors.items()}
        )
    return dict(form.cleaned_data)


def fire_transition(
    *,
    letter_id: int,
    name: str,
    user: User | None,
    payload: Mapping[str, Any] | None = None,
) -> MissionLetter:
    """Fire transition ``name`` on a letter as ``user`` (``None``: the scheduler).

    In one transaction: lock the letter's row; check the person may see it (else
    ``LetterNotFound``), may fire this (``NotPermitted``), that the state allows it
    (``TransitionNotAllowed``), the payload (``InvalidInput``) and the guards
    (``ConditionsUnmet``); apply it; save; write the audit event and the outbox rows.
    A request that lost a race against another on the same letter finds the state
    changed and gets ``TransitionNotAllowed``.
    """
    spec = TRANSITIONS.get(name)
    if spec is None:
        raise UnknownTransition(_("Transition inconnue : %(name)s.") % {"name": name})
    try:
        with transaction.atomic():
            letter = _locked_letter(letter_id)
            actor = _actor(user, letter)
            if not spec.who(actor, letter):
                raise NotPermitted(
                    _("« %(label)s » n'est pas de votre ressort sur cette lettre.")
                    % {"label": spec.label}
                )
            if not can_proceed(getattr(letter, spec.name), check_conditions=False):
                raise TransitionNotAllowed(
                    _(
                        "« %(label)s » n'est pas possible quand la lettre est à l'état "
                        "« %(state)s »."
                    )
                    % {"label": spec.label, "state": LetterState(letter.state).label}
                )
            data = _parse_payload(spec, payload)
            unmet = spec.guard(letter, actor)
            if unmet:
                raise ConditionsUnmet(unmet)
            from_state = letter.state
            audit_payload = spec.perform(letter, actor, data)
            letter.save()
            write_version(letter, by=actor.user, working=from_state == LetterState.DRAFT)
            event = record_event(
                letter,
                action=spec.name,
                from_state=from_state,
                actor=actor,
                payload=audit_payload,
            )
            _write_outbox(event, spec.notify(letter), actor)
    except ConcurrentTransition as exc:
        raise TransitionNotAllowed(
            _("La lettre a été modifiée par une autre action au même moment : rechargez-la.")
        ) from exc
    return letter


@dataclass(frozen=True)
class AvailableTransition:
    name: str
    label: str
    target: str
    unmet: list[Any]

    @property
    def ready(self) -> bool:
        return not self.unmet


def available_transitions(
    letter: MissionLetter, user: User, actor: Actor | None = None
) -> list[AvailableTransition]:
    """The transitions ``user`` may fire from the letter's current state, each with the
    guards still unmet (empty: it can be fired now). ``actor``: ``user`` as
    ``actors_for`` read them for many letters at once."""
    if actor is None:
        actor = actor_for(user, letter)
    if not actor.can_see:
        return []
    return [
        AvailableTransition(spec.name, str(spec.label), spec.target, spec.guard(letter, actor))
        for spec in TRANSITIONS.values()
        if spec.who(actor, letter)
        and can_proceed(getattr(letter, spec.name), check_conditions=False)
    ]


# Content -------------------------------------------------------------------------------


def _require_head(actor: Actor) -> None:
    if not actor.acts_for_principal:
        raise NotPermitted(
            _("Seul le chef d'établissement (ou son adjoint par délégation) rédige la lettre.")
        )


def _refuse_a_second_letter(establishment: Establishment, school_year: SchoolYear) -> None:
    """``LetterExists`` if the establishment has a letter (not withdrawn) for the year.
    The establishment's row is locked first, so that two drafts begun at once cannot
    both pass."""
    Establishment.objects.select_for_update().filter(pk=establishment.pk).first()
    existing = (
        MissionLetter.objects.filter(establishment=establishment, school_year=school_year)
        .exclude(state=LetterState.WITHDRAWN)
        .values_list("pk", flat=True)
        .first()
    )
    if existing is not None:
        raise LetterExists(
            _(
                "%(establishment)s a déjà une lettre de mission pour %(year)s (n° %(id)s) : "
                "reprenez-la plutôt que d'en commencer une autre."
            )
            % {"establishment": establishment.name, "year": school_year.code, "id": existing},
            existing,
        )


def create_letter(
    *,
    user: User,
    establishment: Establishment,
    school_year: SchoolYear,
) -> MissionLetter:
    """A new draft for the whole school year, by the principal (or deputy by delegation).
    An establishment has one letter a school year: while it has one not withdrawn, a
    second is refused (``LetterExists``, naming it)."""
    with transaction.atomic():
        _refuse_a_second_letter(establishment, school_year)
        letter = MissionLetter(
            establishment=establishment,
            school_year=school_year,
            created_by=user,
            period_kind=PeriodKind.SCHOOL_YEAR,
            period_start=school_year.starts_on,
            period_end=school_year.ends_on,
        )
        actor = actor_for(user, letter)
        _require_head(actor)
        letter.save()
        write_version(letter, by=user, working=True)
        event = record_event(letter, action="create", from_state="", actor=actor)
        _write_outbox(event, [], actor)
    return letter


CONTENT_FIELDS = (
    "period_kind",
    "period_start",
    "period_end",
    "means",
    "means_other",
    "follow_up",
    "qualification",
    "dane_training",
)
SECTION_FIELDS = ("referents", "missions", "indicators")


def _as_id(value: Any) -> int:
    """An identifier from client input; 0 (matching nothing) when it is not one."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _too_long(value: str, model: type[Any], name: str) -> str | None:
    """A French message when ``value`` exceeds the column of ``model.name``."""
    limit = model._meta.get_field(name).max_length
    if limit is not None and len(value) > limit:
        return _("%(count)s caractères au plus.") % {"count": limit}
    return None


def _date(value: Any, field: str, errors: dict[str, list[str]]) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors.setdefault(field, []).append(_("Date attendue au format AAAA-MM-JJ."))
        return None


def _apply_fields(
    letter: MissionLetter, changes: Mapping[str, Any], errors: dict[str, list[str]]
) -> None:
    choices = {
        "period_kind": PeriodKind.values,
        "follow_up": FollowUp.values,
    }
    for name in CONTENT_FIELDS:
        if name not in changes:
            continue
        value = changes[name]
        if name in choices:
            if value not in choices[name]:
                errors.setdefault(name, []).append(
                    _("Valeur inconnue : « %(value)s ».") % {"value": value}
                )
                continue
        elif name in ("period_start", "period_end"):
            value = _date(value, name, errors)
        elif name == "means":
            if not isinstance(value, list) or any(v not in Means.values for v in value):
                errors.setdefault(name, []).append(
                    _("Moyens possibles : %(choices)s.") % {"choices": ", ".join(Means.values)}
                )
                continue
            value = sorted(set(value))
        elif not isinstance(value, str):
            errors.setdefault(name, []).append(_("Texte attendu."))
            continue
        elif message := _too_long(value, MissionLetter, name):
            errors.setdefault(name, []).append(message)
            continue
        setattr(letter, name, value)
    if letter.period_start and letter.period_end and letter.period_start > letter.period_end:
        errors.setdefault("period_end", []).append(_("La fin de la période suit son début."))


def _replace_referents(letter: MissionLetter, rows: Any, errors: dict[str, list[str]]) -> None:
    if not isinstance(rows, list):
        errors.setdefault("referents", []).append(_("Une liste de référents est attendue."))
        return
    teachers = {
        a.user.username: a.user
        for a in RoleAssignment.objects.filter(
            establishment=letter.establishment, role=Role.TEACHER
        ).select_related("user")
    }
    wanted: list[tuple[User, dict[str, Any]]] = []
    for index, row in enumerate(rows):
        prefix = f"referents[{index}]"
        username = row.get("user") if isinstance(row, dict) else None
        user = teachers.get(str(username))
        if user is None:
            errors.setdefault(f"{prefix}.user", []).append(
                _("« %(user)s » n'est pas enseignant de l'établissement.") % {"user": username}
            )
            continue
        mode = row.get("mode")
        imp = row.get("imp_amount")
        hours = row.get("decharge_hours")
        if mode not in RecognitionMode.values:
            errors.setdefault(f"{prefix}.mode", []).append(_("« imp » ou « decharge »."))
            continue
        try:
            validate_recognition(
                None if imp in (None, "") else imp, None if hours in (None, "") else hours
            )
        except ValidationError as exc:
            errors.setdefault(f"{prefix}.recognition", []).extend(exc.messages)
            continue
        if (mode == RecognitionMode.IMP) != (imp not in (None, "")):
            errors.setdefault(f"{prefix}.mode", []).append(
                _("Le mode de reconnaissance ne correspond pas au montant indiqué.")
            )
            continue
        if message := _too_long(str(row.get("share") or ""), LetterReferent, "share"):
            errors.setdefault(f"{prefix}.share", []).append(message)
            continue
        if any(existing.pk == user.pk for existing, _row in wanted):
            errors.setdefault(f"{prefix}.user", []).append(_("Ce référent figure deux fois."))
            continue
        wanted.append((user, row))
    if errors:
        return
    keep = {user.pk for user, _row in wanted}
    letter.referents.exclude(user_id__in=keep).delete()
    for order, (user, row) in enumerate(wanted):
        imp = row.get("imp_amount")
        hours = row.get("decharge_hours")
        LetterReferent.objects.update_or_create(
            letter=letter,
            user=user,
            defaults={
                "mode": row["mode"],
                "imp_amount": None if imp in (None, "") else imp,
                "decharge_hours": None if hours in (None, "") else hours,
                "share": str(row.get("share") or ""),
                "order": order,
            },
        )


def _replace_missions(letter: MissionLetter, rows: Any, errors: dict[str, list[str]]) -> None:
    if not isinstance(rows, list):
        errors.setdefault("missions", []).append(_("Une liste de missions est attendue."))
        return
    referents = {r.user.username: r for r in letter.referents.select_related("user")}
    items = CatalogItem.objects.in_bulk(
        [_as_id(r.get("catalog_item")) for r in rows if isinstance(r, dict)]
    )
    prepared = []
    seen_items: set[int] = set()
    for index, row in enumerate(rows):
        prefix = f"missions[{index}]"
        if not isinstance(row, dict):
            errors.setdefault(prefix, []).append(_("Une mission est attendue."))
            continue
        chosen = row.get("catalog_item") not in (None, "")
        item = items.get(_as_id(row.get("catalog_item"))) if chosen else None
        if chosen and item is None:
            errors.setdefault(f"{prefix}.catalog_item", []).append(
                _("Mission du catalogue inconnue.")
            )
            continue
        if item is not None and item.pk in seen_items:
            errors.setdefault(f"{prefix}.catalog_item", []).append(
                _("Cette mission du catalogue figure deux fois.")
            )
            continue
        if item is not None:
            seen_items.add(item.pk)
        text = str(row.get("text") or (item.text if item else "")).strip()
        if not text:
            errors.setdefault(f"{prefix}.text", []).append(
                _("Choisissez une mission du catalogue ou rédigez-la.")
            )
            continue
        priority = row.get("priority") or (item.priority_hint if item else None)
        if priority not in MissionPriority.values:
            errors.setdefault(f"{prefix}.priority", []).append(_("« principal » ou « secondary »."))
            continue
        carried_by = []
        for username in row.get("referents") or []:
            if username not in referents:
                errors.setdefault(f"{prefix}.referents", []).append(
                    _("« %(user)s » n'est pas référent de cette lettre.") % {"user": username}
                )
            else:
                carried_by.append(referents[username])
        prepared.append((item, text, priority, carried_by))
    if errors:
        return
    letter.missions.all().delete()
    for order, (item, text, priority, carried_by) in enumerate(prepared):
        mission = LetterMission.objects.create(
            letter=letter, catalog_item=item, text=text, priority=priority, order=order
        )
        mission.referents.set(carried_by)


def _replace_indicators(letter: MissionLetter, rows: Any, errors: dict[str, list[str]]) -> None:
    if not isinstance(rows, list):
        errors.setdefault("indicators", []).append(_("Une liste d'indicateurs est attendue."))
        return
    prepared = []
    for index, row in enumerate(rows):
        text = str(row.get("text") or "").strip() if isinstance(row, dict) else ""
        if not text:
            errors.setdefault(f"indicators[{index}].text", []).append(_("Rédigez l'indicateur."))
            continue
        target = str(row.get("target") or "")
        if message := _too_long(target, LetterIndicator, "target"):
            errors.setdefault(f"indicators[{index}].target", []).append(message)
            continue
        prepared.append((text, target))
    if errors:
        return
    letter.indicators.all().delete()
    LetterIndicator.objects.bulk_create(
        LetterIndicator(letter=letter, text=text, target=target, order=order)
        for order, (text, target) in enumerate(prepared)
    )


def update_letter(
    *,
    letter_id: int,
    user: User,
    changes: Mapping[str, Any],
    base_version: int | None = None,
) -> MissionLetter:
    """Change the letter's content: only the principal (or deputy by delegation), only
    in draft or concertation. Sections given (``referents``, ``missions``,
    ``indicators``) replace the current ones. In concertation the version goes up, so
    the référents' agreements must be given again; the change is in the history.

    ``base_version``: the version the editor started from; if it has moved since, the
    edit is refused (``StaleVersion``) rather than silently overwriting another's.
    Bad input raises ``InvalidInput`` and changes nothing.
    """
    unknown = set(changes) - set(CONTENT_FIELDS) - set(SECTION_FIELDS)
    if unknown:
        raise InvalidInput({name: [_("Champ inconnu ou non modifiable.")] for name in unknown})
    with transaction.atomic():
        letter = _locked_letter(letter_id)
        actor = _actor(user, letter)
        _require_head(actor)
        if not letter.is_editable:
            raise NotEditable(
                _(
                    "La lettre n'est plus modifiable à l'état « %(state)s » : rouvrez la "
                    "concertation pour la changer."
                )
                % {"state": LetterState(letter.state).label}
            )
        if base_version is not None and base_version != letter.version:
            raise StaleVersion(
                _(
                    "La lettre est passée à la version %(current)s depuis votre version "
                    "%(base)s : rechargez-la."
                )
                % {"current": letter.version, "base": base_version}
            )
        errors: dict[str, list[str]] = {}
        content_before = content_sha256(letter)
        _apply_fields(letter, changes, errors)
        if "referents" in changes:
            _replace_referents(letter, changes["referents"], errors)
        if "missions" in changes and not errors:
            _replace_missions(letter, changes["missions"], errors)
        if "indicators" in changes and not errors:
            _replace_indicators(letter, changes["indicators"], errors)
        if errors:
            transaction.set_rollback(True)
            raise InvalidInput(errors)
        # Only a real change of content raises the version (and voids agreements).
        changed = content_sha256(letter) != content_before
        in_concertation = letter.state == LetterState.CONCERTATION and changed
        if in_concertation:
            letter.version += 1
        letter.save()
        write_version(letter, by=user, working=letter.state == LetterState.DRAFT)
        if in_concertation:
            event = record_event(
                letter,
                action="edit",
                from_state=letter.state,
                actor=actor,
                payload={"changed": sorted(changes), "version": letter.version},
            )
            _write_outbox(
                event,
                [(r.user, "content_changed") for r in letter.referents.select_related("user")],
                actor,
            )
    return letter


def add_comment(
    *,
    letter_id: int,
    user: User,
    body: str,
    mission_id: int | None = None,
    indicator_id: int | None = None,
) -> Comment:
    """A message in the concertation thread, by the principal's side or a référent,
    optionally about one mission or indicator. The other participants are told."""
    body = (body or "").strip()
    if not body:
        raise InvalidInput({"body": [_("Le message est vide.")]})
    with transaction.atomic():
        letter = _locked_letter(letter_id)
        actor = _actor(user, letter)
        if not (actor.acts_for_principal or actor.is_referent):
            raise NotPermitted(
                _("La concertation réunit le chef d'établissement et les référents.")
            )
        if letter.state in (LetterState.CLOSED, LetterState.WITHDRAWN):
            raise NotEditable(_("La lettre est close : on ne peut plus la commenter."))
        mission = indicator = None
        anchor = ""
        if mission_id is not None:
            mission = letter.missions.filter(pk=mission_id).first()
            if mission is None:
                raise InvalidInput({"mission": [_("Cette mission n'est pas dans la lettre.")]})
            anchor = mission.text
        if indicator_id is not None:
            indicator = letter.indicators.filter(pk=indicator_id).first()
            if indicator is None:
                raise InvalidInput({"indicator": [_("Cet indicateur n'est pas dans la lettre.")]})
            anchor = indicator.text
        comment = Comment.objects.create(
            letter=letter,
            author=user,
            body=body,
            mission=mission,
            indicator=indicator,
            anchor_text=anchor,
            version=letter.version,
        )
        participants = [r.user for r in letter.referents.select_related("user")]
        participants += [
            a.user
            for a in RoleAssignment.objects.filter(
                establishment=letter.establishment, role=Role.PRINCIPAL
            ).select_related("user")
        ]
        OutboxItem.objects.bulk_create(
            [
                OutboxItem(
                    key=f"notify:comment:{comment.pk}:{person.pk}",
                    kind=OutboxKind.NOTIFICATION,
                    letter=letter,
                    recipient=person,
                    topic="comment_posted",
                )
                for person in {p.pk: p for p in participants}.values()
                if person.pk != user.pk
            ]
        )
        transaction.on_commit(_kick_outbox, robust=True)
    return comment


def report_refusal(letter: MissionLetter, actor: Actor) -> WorkflowError | None:
    """Why ``actor`` may not write the letter's year-end report now (``None``: they
    may): it is written by the référents, while it is due. The report page asks the
    same to offer its form or show it read-only."""
    if not actor.is_referent:
        return NotPermitted(_("Le compte rendu est rédigé par les référents."))
    if letter.state != LetterState.REPORT_DUE:
        return NotEditable(_("Le compte rendu ne se modifie que lorsqu'il est attendu."))
    return None


def save_report(*, letter_id: int, user: User, data: Mapping[str, Any]) -> YearEndReport:
    """The référents fill in the year-end report while it is due. ``outcomes``:
    ``[{mission, status, comment}]``; ``results``: ``[{indicator, result}]``."""
    with transaction.atomic():
        letter = _locked_letter(letter_id)
        actor = _actor(user, letter)
        if refusal := report_refusal(letter, actor):
            raise refusal
        report = YearEndReport.objects.get(letter=letter)
        errors: dict[str, list[str]] = {}
        for name in ("difficulties", "training_needs", "proposals"):
            if name in data:
                setattr(report, name, str(data[name] or ""))
        outcomes = {o.mission_id: o for o in report.outcomes.all()}
        for index, row in enumerate(data.get("outcomes") or []):
            outcome = outcomes.get(_as_id(row.get("mission"))) if isinstance(row, dict) else None
            if outcome is None:
                errors.setdefault(f"outcomes[{index}].mission", []).append(_("Mission inconnue."))
                continue
            status = row.get("status") or ""
            if status and status not in OutcomeStatus.values:
                errors.setdefault(f"outcomes[{index}].status", []).append(
                    _("« done », « partly » ou « not_done ».")
                )
                continue
            outcome.status, outcome.comment = status, str(row.get("comment") or "")
        results = {r.indicator_id: r for r in report.results.all()}
        for index, row in enumerate(data.get("results") or []):
            result = results.get(_as_id(row.get("indicator"))) if isinstance(row, dict) else None
            if result is None:
                errors.setdefault(f"results[{index}].indicator", []).append(
                    _("Indicateur inconnu.")
                )
                continue
            result.result = str(row.get("result") or "")
        if errors:
            raise InvalidInput(errors)
        report.save()
        MissionOutcome.objects.bulk_update(outcomes.values(), ["status", "comment"])
        IndicatorResult.objects.bulk_update(results.values(), ["result"])
    return report


def record_meeting_opinions(
    *, meeting_id: int, user: User, opinions: list[Mapping[str, Any]]
) -> list[MissionLetter]:
    """Record a meeting's opinion on every letter of its agenda in one go: all of them
    or none. ``opinions``: ``[{letter, opinion, votes_for, …, remarks}]``; errors come
    back per letter."""
    meeting = Meeting.objects.select_related("council__establishment").filter(pk=meeting_id).first()
    if meeting is None:
        raise InvalidInput({"meeting": [_("Séance inconnue.")]})
    if not opinion_recorders_meetings(user, [meeting]):
        raise NotPermitted(
            _(
                "Les avis d'une séance sont saisis par le secrétaire du conseil ou le chef "
                "d'établissement."
            )
        )
    name = (
        "record_pedagogical_opinion"
        if meeting.council.kind == "pedagogical"
        else "record_board_opinion"
    )
    if not opinions:
        raise InvalidInput({"opinions": [_("Aucun avis à enregistrer.")]})
    errors: dict[str, list[str]] = {}
    letters = []
    with transaction.atomic():
        for row in opinions:
            letter_id = row.get("letter")
            try:
                letters.append(
                    fire_transition(
                        letter_id=_as_id(letter_id),
                        name=name,
                        user=user,
                        payload={**row, "meeting": meeting_id},
                    )
                )
            except InvalidInput as exc:
                errors[f"letter {letter_id}"] = [
                    f"{field} : {m}" for field, msgs in exc.errors.items() for m in msgs
                ]
            except ConditionsUnmet as exc:
                errors[f"letter {letter_id}"] = [u.message for u in exc.unmet]
            except WorkflowError as exc:
                errors[f"letter {letter_id}"] = [exc.detail]
        if errors:
            transaction.set_rollback(True)
            raise InvalidInput(errors, _("Aucun avis n'a été enregistré : corrigez d'abord."))
    return letters


def renew_letter(*, letter_id: int, user: User, school_year: SchoolYear) -> MissionLetter:
    """Copy a letter (in force or later) into a draft for another school year: same
    référents (agreements to give again), missions, indicators, means and follow-up."""
    with transaction.atomic():
        source = _locked_letter(letter_id)
        actor = _actor(user, source)
        _require_head(actor)
        if source.state not in RENEWABLE_STATES:
            raise TransitionNotAllowed(
                _("Seule une lettre entrée en vigueur peut être reconduite.")
            )
        if school_year.starts_on <= source.school_year.starts_on:
            raise InvalidInput({"school_year": [_("Choisissez une année scolaire suivante.")]})
        _refuse_a_second_letter(source.establishment, school_year)
        letter = MissionLetter.objects.create(
            establishment=source.establishment,
            school_year=school_year,
            created_by=user,
            period_kind=PeriodKind.SCHOOL_YEAR,
            period_start=school_year.starts_on,
            period_end=school_year.ends_on,
            means=list(source.means),
            means_other=source.means_other,
            follow_up=source.follow_up,
            qualification=source.qualification,
            dane_training=source.dane_training,
            renewed_from=source,
        )
        copies = {}
        for referent in source.referents.all():
            copies[referent.pk] = LetterReferent.objects.create(
                letter=letter,
                user_id=referent.user_id,
                mode=referent.mode,
                imp_amount=referent.imp_amount,
                decharge_hours=referent.decharge_hours,
                share=referent.share,
                order=referent.order,
            )
        for mission in source.missions.prefetch_related("referents"):
            copy = LetterMission.objects.create(
                letter=letter,
                catalog_item_id=mission.catalog_item_id,
                text=mission.text,
                priority=mission.priority,
                order=mission.order,
            )
            copy.referents.set([copies[r.pk] for r in mission.referents.all()])
        LetterIndicator.objects.bulk_create(
            LetterIndicator(letter=letter, text=i.text, target=i.target, order=i.order)
            for i in source.indicators.all()
        )
        write_version(letter, by=user, working=True)
        event = record_event(
            letter,
            action="create",
            from_state="",
            actor=actor,
            payload={"renewed_from": source.pk},
        )
        _write_outbox(event, [], actor)
    return letter
