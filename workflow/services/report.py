"""The year-end report: who may write it and when (``report_refusal``), and saving it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from governance.models import (
    User,
)
from workflow.errors import (
    InvalidInput,
    NotEditable,
    NotPermitted,
    WorkflowError,
)
from workflow.models import (
    IndicatorResult,
    LetterState,
    MissionLetter,
    MissionOutcome,
    OutcomeStatus,
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


def save_report(*, letter_id: int, user: User, data: Mapping[str, Any]) -> YearEndReport:
    """The référents fill in the year-end report while it is due. ``outcomes``:
    ``[{mission, status, comment}]``; ``results``: ``[{indicator, result}]``."""
    with transaction.atomic():
        letter, actor = locked_letter(letter_id, user)
        if refusal := report_refusal(letter, actor):
            raise refusal
        report = YearEndReport.objects.get(letter=letter)
        errors: dict[str, list[str]] = {}
        for name in ("difficulties", "training_needs", "proposals"):
            if name in data:
                text = _text(data[name], name, errors)
                setattr(report, name, text)
        for name in ("outcomes", "results"):
            if not isinstance(data.get(name) or [], list):
                errors.setdefault(name, []).append(_("Une liste est attendue."))
        if errors:
            raise InvalidInput(errors)
        outcomes = {o.mission_id: o for o in report.outcomes.all()}
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
            comment = _text(row.get("comment"), f"outcomes[{index}].comment", errors)
            outcome.status, outcome.comment = status, comment
        results = {r.indicator_id: r for r in report.results.all()}
        for index, row in enumerate(data.get("results") or []):
            result = results.get(as_id(row.get("indicator"))) if isinstance(row, dict) else None
            if result is None:
                errors.setdefault(f"results[{index}].indicator", []).append(
                    _("Indicateur inconnu.")
                )
                continue
            result.result = _text(row.get("result"), f"results[{index}].result", errors)
        if errors:
            raise InvalidInput(errors)
        report.save()
        MissionOutcome.objects.bulk_update(outcomes.values(), ["status", "comment"])
        IndicatorResult.objects.bulk_update(results.values(), ["result"])
    return report
