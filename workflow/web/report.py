"""The year-end report's page: the form for a référent, read-only for the others."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from governance.selectors import (
    signed_in_user,
)
from workflow.errors import (
    WorkflowError,
)
from workflow.lifecycle.engine import available_transitions
from workflow.lifecycle.table import action_label
from workflow.models import (
    OutcomeStatus,
    YearEndReport,
)
from workflow.selectors.actors import actor_for
from workflow.selectors.story import standing_reason
from workflow.services.report import report_refusal, save_report
from workflow.web.access import letter_or_404


@login_required
def report(request: HttpRequest, letter_id: int) -> HttpResponse:
    """The year-end report: a form for the référents while it is due (pre-filled from
    the letter's missions and indicators), a read-only page for everyone else."""
    user = signed_in_user(request)
    letter = letter_or_404(user, letter_id)
    report = (
        YearEndReport.objects.filter(letter=letter)
        .prefetch_related("outcomes__mission", "results__indicator")
        .first()
    )
    if report is None:
        raise Http404(_("Le compte rendu n'est pas encore ouvert."))
    editable = report_refusal(letter, actor_for(user, letter)) is None
    if request.method == "POST":
        if not editable:
            raise PermissionDenied(_("Le compte rendu n'est pas modifiable par vous."))
        data = {
            "difficulties": request.POST.get("difficulties", ""),
            "training_needs": request.POST.get("training_needs", ""),
            "proposals": request.POST.get("proposals", ""),
            "outcomes": [
                {
                    "mission": o.mission_id,
                    "status": request.POST.get(f"status-{o.mission_id}", ""),
                    "comment": request.POST.get(f"comment-{o.mission_id}", ""),
                }
                for o in report.outcomes.all()
            ],
            "results": [
                {
                    "indicator": r.indicator_id,
                    "result": request.POST.get(f"result-{r.indicator_id}", ""),
                }
                for r in report.results.all()
            ],
        }
        try:
            save_report(letter_id=letter.pk, user=user, data=data)
        except WorkflowError as exc:
            # Back as typed: the posted values over the stored ones, nothing saved.
            messages.error(request, exc.detail)
            _show_as_typed(report, data)
        else:
            messages.success(request, _("Compte rendu enregistré."))
            return redirect("letter-page-report", letter_id=letter.pk)
    reason = standing_reason(letter)
    return render(
        request,
        "workflow/report.html",
        {
            "letter": letter,
            "report": report,
            "editable": editable,
            "statuses": OutcomeStatus.choices,
            "standing_reason": reason,
            "standing_label": action_label(reason.action) if reason else "",
            # The report's own steps (hand in, acknowledge, return), fired from here.
            "actions": [t for t in available_transitions(letter, user) if not t.done],
        },
    )


def _show_as_typed(report: YearEndReport, data: dict[str, Any]) -> None:
    """Put what was posted on the report's rows in memory, so that a refused save
    comes back as the person typed it."""
    for name in ("difficulties", "training_needs", "proposals"):
        setattr(report, name, data[name])
    outcomes = {row["mission"]: row for row in data["outcomes"]}
    for outcome in report.outcomes.all():
        posted = outcomes[outcome.mission_id]
        outcome.status, outcome.comment = posted["status"], posted["comment"]
    results = {row["indicator"]: row for row in data["results"]}
    for result in report.results.all():
        result.result = results[result.indicator_id]["result"]
