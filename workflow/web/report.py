"""The year-end report's page: the form for a référent, read-only for the others."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from governance.selectors import (
    signed_in_user,
)
from workflow.errors import (
    WorkflowError,
)
from workflow.models import (
    OutcomeStatus,
    YearEndReport,
)
from workflow.selectors.actors import actor_for
from workflow.services.report import report_refusal, save_report
from workflow.web.letters import letter_or_404


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
            return HttpResponseForbidden(_("Le compte rendu n'est pas modifiable par vous."))
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
            messages.error(request, exc.detail)
        else:
            messages.success(request, _("Compte rendu enregistré."))
        return redirect("letter-page-report", letter_id=letter.pk)
    return render(
        request,
        "workflow/report.html",
        {
            "letter": letter,
            "report": report,
            "editable": editable,
            "statuses": OutcomeStatus.choices,
        },
    )
