"""The year-end report: who may write it and when (``report_refusal``), and saving it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from governance.models import (
    User,
)
from workflow.errors import (
    EntryConflict,
    InvalidInput,
    NotEditable,
    NotPermitted,
    StaleEntries,
    WorkflowError,
)
from workflow.models import (
    CLOSING_FIELDS,
    IndicatorResult,
    LetterState,
    MissionLetter,
    MissionOutcome,
    OutcomeStatus,
    Revised,
    YearEndReport,
)
from workflow.selectors.actors import Actor
from workflow.services.writes import as_id, locked_letter, nul_refusal


def report_refusal(letter: MissionLetter, actor: Actor) -> WorkflowError | None:
    """Why ``actor`` may not write the letter's year-end report now (``None``: they
    may): it is written by the référents, while it is due. The report page asks the
    same to offer its form or show it read-only."""
    if not actor.is_referent:
        return NotPermitted(_("Le compte rendu est rédigé par les référents."))
    if letter.state != LetterState.REPORT_DUE:
        return NotEditable(_("Le compte rendu ne se modifie que lorsqu'il est attendu."))
    return None


# The longest text any field of the report takes.
TEXT_LIMIT = 8000


def _text(value: object, field: str, errors: dict[str, list[str]]) -> str:
    """A text of the report as sent (empty for none), its length checked."""
    text = "" if value is None else str(value)
    if "\x00" in text:
        errors.setdefault(field, []).append(nul_refusal())
    if len(text) > TEXT_LIMIT:
        errors.setdefault(field, []).append(
            _("%(count)s caractères au plus.") % {"count": TEXT_LIMIT}
        )
    return text


def _revision(value: object, field: str, errors: dict[str, list[str]]) -> int | None:
    """The revision an entry was read at; ``None`` when the client does not say."""
    if value is None:
        return None
    number = as_id(value)
    if not number:
        errors.setdefault(field, []).append(_("Un numéro de révision est attendu."))
    return number


def _saved_by(entry: Revised) -> str:
    by = entry.revised_by
    return (by.get_full_name() or by.username) if by else ""


def _save_entry(
    entry: Revised,
    values: dict[str, str],
    base: int | None,
    user: User,
    now: dt.datetime,
    changed_in: dict[str, int] | None = None,
) -> bool | None:
    """Write ``values`` on ``entry``: ``False`` when they are the stored ones (nothing to
    write, whatever revision they were read at), ``None`` when another person changed
    the entry since revision ``base``, ``True`` when written. With ``changed_in`` (the
    revision each field last changed at, kept up to date here), only a change to one
    of the fields written counts: another field saved meanwhile stands beside them."""
    changing = [name for name, value in values.items() if getattr(entry, name) != value]
    if not changing:
        return False
    if (
        base is not None
        and base != entry.revision
        and (
            changed_in is None
            or any(changed_in.get(name, entry.revision) > base for name in changing)
        )
    ):
        return None
    for name in changing:
        setattr(entry, name, values[name])
        if changed_in is not None:
            changed_in[name] = entry.revision + 1
    entry.revision += 1
    entry.revised_by, entry.revised_at = user, now
    return True


def _conflict(
    entry: Revised, kind: str, id: int | None, label: str, fields: tuple[str, ...]
) -> EntryConflict:
    return EntryConflict(
        entry=kind,
        id=id,
        label=label,
        stored={name: getattr(entry, name) for name in fields},
        revision=entry.revision,
        revised_by=_saved_by(entry),
        revised_at=entry.revised_at,
    )


def _stale_detail(conflicts: list[EntryConflict]) -> str:
    names = sorted({c.revised_by for c in conflicts if c.revised_by})
    return ngettext(
        "%(count)s partie du compte rendu a été enregistrée par %(names)s depuis que vous "
        "l'avez ouvert : rien n'est enregistré. Choisissez quel texte garder.",
        "%(count)s parties du compte rendu ont été enregistrées par %(names)s depuis que "
        "vous l'avez ouvert : rien n'est enregistré. Choisissez quel texte garder.",
        len(conflicts),
    ) % {"count": len(conflicts), "names": ", ".join(names) or _("quelqu'un")}


def save_report(*, letter_id: int, user: User, data: Mapping[str, Any]) -> YearEndReport:
    """The référents fill in the year-end report while it is due.

    ``outcomes``: ``[{mission, status, comment, revision}]``; ``results``: ``[{indicator,
    result, revision}]``; the closing texts ``difficulties``, ``training_needs`` and
    ``proposals`` with ``revision``, the report's own. Each entry (an outcome, a result,
    the closing texts) is saved on its own, so that two référents writing different
    missions never meet: an entry sent as it is stored is left alone; one that changes
    it moves its revision. An entry read at an older ``revision`` whose values another
    person has changed since refuses the whole save (``StaleEntries``, each entry with
    its stored values and who saved them), rather than overwriting theirs unseen.
    Without ``revision`` an entry is written whatever happened since.
    """
    with transaction.atomic():
        letter, actor = locked_letter(letter_id, user)
        if refusal := report_refusal(letter, actor):
            raise refusal
        report = YearEndReport.objects.select_related("revised_by").get(letter=letter)
        errors: dict[str, list[str]] = {}
        closing = {name: _text(data[name], name, errors) for name in CLOSING_FIELDS if name in data}
        closing_base = _revision(data.get("revision"), "revision", errors)
        for name in ("outcomes", "results"):
            if not isinstance(data.get(name) or [], list):
                errors.setdefault(name, []).append(_("Une liste est attendue."))
        if errors:
            raise InvalidInput(errors)
        outcomes = {
            o.mission_id: o for o in report.outcomes.select_related("mission", "revised_by")
        }
        outcome_rows: list[tuple[MissionOutcome, dict[str, str], int | None]] = []
        for index, row in enumerate(data.get("outcomes") or []):
            outcome = outcomes.get(as_id(row.get("mission"))) if isinstance(row, dict) else None
            if outcome is None:
                errors.setdefault(f"outcomes[{index}].mission", []).append(_("Mission inconnue."))
                continue
            status = row.get("status") or ""
            if status and status not in OutcomeStatus.values:
                errors.setdefault(f"outcomes[{index}].status", []).append(
                    _("« done », « partly » ou « not_done ».")
                )
                continue
            values = {
                "status": status,
                "comment": _text(row.get("comment"), f"outcomes[{index}].comment", errors),
            }
            base = _revision(row.get("revision"), f"outcomes[{index}].revision", errors)
            outcome_rows.append((outcome, values, base))
        results = {
            r.indicator_id: r for r in report.results.select_related("indicator", "revised_by")
        }
        result_rows: list[tuple[IndicatorResult, dict[str, str], int | None]] = []
        for index, row in enumerate(data.get("results") or []):
            result = results.get(as_id(row.get("indicator"))) if isinstance(row, dict) else None
            if result is None:
                errors.setdefault(f"results[{index}].indicator", []).append(
                    _("Indicateur inconnu.")
                )
                continue
            values = {"result": _text(row.get("result"), f"results[{index}].result", errors)}
            base = _revision(row.get("revision"), f"results[{index}].revision", errors)
            result_rows.append((result, values, base))
        if errors:
            raise InvalidInput(errors)

        now = timezone.now()
        conflicts: list[EntryConflict] = []
        if (
            closing
            and _save_entry(report, closing, closing_base, user, now, report.closing_revisions)
            is None
        ):
            conflicts.append(_conflict(report, "closing", None, str(_("Bilan")), CLOSING_FIELDS))
        written_outcomes = []
        for outcome, values, base in outcome_rows:
            written = _save_entry(outcome, values, base, user, now)
            if written is None:
                conflicts.append(
                    _conflict(
                        outcome,
                        "outcome",
                        outcome.mission_id,
                        outcome.mission.text,
                        ("status", "comment"),
                    )
                )
            elif written:
                written_outcomes.append(outcome)
        written_results = []
        for result, values, base in result_rows:
            written = _save_entry(result, values, base, user, now)
            if written is None:
                conflicts.append(
                    _conflict(
                        result, "result", result.indicator_id, result.indicator.text, ("result",)
                    )
                )
            elif written:
                written_results.append(result)
        if conflicts:
            raise StaleEntries(_stale_detail(conflicts), conflicts)
        report.save()
        entry_fields = ["revision", "revised_by", "revised_at"]
        MissionOutcome.objects.bulk_update(written_outcomes, ["status", "comment", *entry_fields])
        IndicatorResult.objects.bulk_update(written_results, ["result", *entry_fields])
    return report
