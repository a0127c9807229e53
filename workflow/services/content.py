"""Editing a letter's content (``update_letter``): each field and list validated once,
here, for the editor page and the API alike. An edit in concertation makes a new
version and tells the référents what changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.imp import validate_recognition
from governance.models import (
    CatalogItem,
    MissionPriority,
    Role,
    RoleAssignment,
    User,
)
from workflow.audit.snapshot import content_sha256
from workflow.audit.versions import write_version
from workflow.errors import (
    InvalidInput,
    NotEditable,
    StaleRevision,
    StaleVersion,
)
from workflow.models import (
    FollowUp,
    LetterIndicator,
    LetterMission,
    LetterReferent,
    LetterState,
    Means,
    MissionLetter,
    PeriodKind,
    RecognitionMode,
)
from workflow.services.writes import as_id, locked_letter, record_write, require_head

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
    _check_period(letter, changes, errors)


def _check_period(
    letter: MissionLetter, changes: Mapping[str, Any], errors: dict[str, list[str]]
) -> None:
    """« Année scolaire » takes the school year's own dates (others sent with it are
    refused); any other period lies within the school year, its end after its start."""
    year = letter.school_year
    bounds = {"start": _day(year.starts_on), "end": _day(year.ends_on), "year": year.code}
    if letter.period_kind == PeriodKind.SCHOOL_YEAR:
        own = {"period_start": year.starts_on, "period_end": year.ends_on}
        for name, day in own.items():
            if name in changes and getattr(letter, name) not in (None, day):
                errors.setdefault(name, []).append(
                    _(
                        "Avec « Année scolaire », la période va du %(start)s au %(end)s : "
                        "choisissez « Dates choisies » pour d'autres dates."
                    )
                    % bounds
                )
        letter.period_start, letter.period_end = year.starts_on, year.ends_on
        return
    for name in ("period_start", "period_end"):
        day = getattr(letter, name)
        if day is None:
            errors.setdefault(name, []).append(_("Indiquez la date."))
        elif not year.starts_on <= day <= year.ends_on:
            errors.setdefault(name, []).append(
                _("La période doit tenir dans l'année scolaire %(year)s, du %(start)s au %(end)s.")
                % bounds
            )
    if letter.period_start and letter.period_end and letter.period_start > letter.period_end:
        errors.setdefault("period_end", []).append(_("La fin de la période suit son début."))


def _day(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


# The largest letter accepted still renders its PDF within budget (bench/pdf_largest.py).
# A real letter has two or three référents and four to eight missions, and the
# catalogue's longest wording is under 300 characters.
MAX_REFERENTS = 4
MAX_MISSIONS = 10
MAX_INDICATORS = 6
MAX_TEXT = 300  # a mission's or an indicator's wording
MAX_SHARE = 150  # a référent's share of the missions
MAX_TARGET = 100  # an indicator's target


def _over(value: str, bound: int) -> str | None:
    """A French message when ``value`` is longer than ``bound``."""
    if len(value) > bound:
        return _("%(count)s caractères au plus.") % {"count": bound}
    return None


def _too_many(rows: list[Any], bound: int, section: str, errors: dict[str, list[str]]) -> bool:
    """An error naming the bound when ``rows`` exceed it."""
    if len(rows) <= bound:
        return False
    errors.setdefault(section, []).append(
        _("%(count)s au plus (la lettre en compte %(given)s).")
        % {"count": bound, "given": len(rows)}
    )
    return True


def _too_long_text() -> str:
    return _("%(count)s caractères au plus.") % {"count": MAX_TEXT}


def _stale_revision(letter: MissionLetter) -> str:
    """Who saved the letter since the person began, and when, by name."""
    by = letter.revised_by
    return _(
        "%(name)s a enregistré la lettre le %(when)s, depuis que vous l'avez ouverte : "
        "votre modification n'est pas enregistrée, pour ne pas effacer la sienne. "
        "Reprenez-la sur la lettre telle qu'elle est maintenant."
    ) % {
        "name": (by.get_full_name() or by.username) if by else _("quelqu'un"),
        "when": timezone.localtime(letter.revised_at).strftime("%d/%m/%Y à %H:%M")
        if letter.revised_at
        else "",
    }


def _person(username: object) -> str:
    """A person named in input, by their name when the account exists (the input
    names accounts; the messages name people)."""
    user = User.objects.filter(username=str(username)).first()
    return (user.get_full_name() or user.username) if user else str(username)


def _replace_referents(letter: MissionLetter, rows: Any, errors: dict[str, list[str]]) -> None:
    if not isinstance(rows, list):
        errors.setdefault("referents", []).append(_("Une liste de référents est attendue."))
        return
    if _too_many(rows, MAX_REFERENTS, "referents", errors):
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
                _("« %(user)s » n'est pas enseignant de l'établissement.")
                % {"user": _person(username)}
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
        if message := _over(str(row.get("share") or ""), MAX_SHARE):
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
    if _too_many(rows, MAX_MISSIONS, "missions", errors):
        return
    referents = {r.user.username: r for r in letter.referents.select_related("user")}
    items = CatalogItem.objects.in_bulk(
        [as_id(r.get("catalog_item")) for r in rows if isinstance(r, dict)]
    )
    prepared = []
    seen_items: set[int] = set()
    for index, row in enumerate(rows):
        prefix = f"missions[{index}]"
        if not isinstance(row, dict):
            errors.setdefault(prefix, []).append(_("Une mission est attendue."))
            continue
        chosen = row.get("catalog_item") not in (None, "")
        item = items.get(as_id(row.get("catalog_item"))) if chosen else None
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
        if len(text) > MAX_TEXT:
            errors.setdefault(f"{prefix}.text", []).append(_too_long_text())
            continue
        priority = row.get("priority") or (item.priority_hint if item else None)
        if priority not in MissionPriority.values:
            errors.setdefault(f"{prefix}.priority", []).append(_("« principal » ou « secondary »."))
            continue
        carried_by = []
        for username in row.get("referents") or []:
            if username not in referents:
                errors.setdefault(f"{prefix}.referents", []).append(
                    _("« %(user)s » n'est pas référent de cette lettre.")
                    % {"user": _person(username)}
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
    if _too_many(rows, MAX_INDICATORS, "indicators", errors):
        return
    prepared = []
    for index, row in enumerate(rows):
        text = str(row.get("text") or "").strip() if isinstance(row, dict) else ""
        if not text:
            errors.setdefault(f"indicators[{index}].text", []).append(_("Rédigez l'indicateur."))
            continue
        if len(text) > MAX_TEXT:
            errors.setdefault(f"indicators[{index}].text", []).append(_too_long_text())
            continue
        target = str(row.get("target") or "")
        if message := _over(target, MAX_TARGET):
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
    base_revision: int | None = None,
) -> MissionLetter:
    """Change the letter's content: only the principal (or deputy by delegation), only
    in draft or concertation. Sections given (``referents``, ``missions``,
    ``indicators``) replace the current ones. In concertation the version goes up, so
    the référents' agreements must be given again; the change is in the history.

    ``base_version``: the version the editor started from; if it has moved since, the
    edit is refused (``StaleVersion``) rather than silently overwriting another's.
    ``base_revision``: the same for every save, draft included (``StaleRevision``):
    two people editing a draft from the same revision, the second is told.
    Bad input raises ``InvalidInput`` and changes nothing.
    """
    unknown = set(changes) - set(CONTENT_FIELDS) - set(SECTION_FIELDS)
    if unknown:
        raise InvalidInput({name: [_("Champ inconnu ou non modifiable.")] for name in unknown})
    with transaction.atomic():
        letter, actor = locked_letter(letter_id, user)
        require_head(actor)
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
        if base_revision is not None and base_revision != letter.revision:
            raise StaleRevision(_stale_revision(letter))
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
        letter.revision += 1
        letter.revised_by, letter.revised_at = user, timezone.now()
        letter.save()
        write_version(letter, by=user, working=letter.state == LetterState.DRAFT)
        if in_concertation:
            record_write(
                letter,
                actor=actor,
                told=[(r.user, "content_changed") for r in letter.referents.select_related("user")],
                action="edit",
                from_state=letter.state,
                payload={"changed": sorted(changes), "version": letter.version},
            )
    return letter
