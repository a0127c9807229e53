"""The year-end report's page: the form for a référent, read-only for the others."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from governance.selectors import (
    signed_in_user,
)
from workflow.errors import (
    EntryConflict,
    StaleEntries,
    WorkflowError,
)
from workflow.lifecycle.engine import available_transitions
from workflow.lifecycle.table import action_label
from workflow.models import (
    IndicatorResult,
    MissionOutcome,
    OutcomeStatus,
    YearEndReport,
)
from workflow.selectors.actors import actor_for
from workflow.selectors.story import standing_reason
from workflow.services.report import CLOSING_FIELDS, report_refusal, save_report
from workflow.web.access import letter_or_404
from workflow.web.fingerprints import fingerprint, shown_field, touched


@dataclass
class FormEntry:
    """One entry of the report's form (a mission's outcome, an indicator's result, the
    closing texts): the values it shows, the revision and the fingerprints it was read
    at, and after a save refused as stale, the other person's stored values."""

    name: str
    id: int | None
    values: dict[str, str]
    revision: object
    shown: dict[str, str]
    subject: Any = None
    conflict: EntryConflict | None = None
    stored_status: str = ""


@dataclass
class ReportForm:
    """The report's form as it shows: each entry, stored or as typed."""

    outcomes: list[FormEntry] = field(default_factory=list)
    results: list[FormEntry] = field(default_factory=list)
    closing: FormEntry | None = None

    def entries(self) -> list[FormEntry]:
        return [*self.outcomes, *self.results, *([self.closing] if self.closing else [])]


def _stored_report(letter_id: int) -> YearEndReport | None:
    return (
        YearEndReport.objects.filter(letter_id=letter_id)
        .select_related("revised_by")
        .prefetch_related(
            Prefetch("outcomes", MissionOutcome.objects.select_related("mission", "revised_by")),
            Prefetch("results", IndicatorResult.objects.select_related("indicator", "revised_by")),
        )
        .first()
    )


def _entry(name: str, id: int | None, values: dict[str, str], row: Any, subject: Any) -> FormEntry:
    """An entry as stored, each of its form's fields fingerprinted as shown."""
    shown = (
        {key: fingerprint(value) for key, value in values.items()}
        if name == "closing"
        else {name: fingerprint(*values.values())}
    )
    return FormEntry(name, id, values, row.revision, shown, subject)


def _stored_form(report: YearEndReport) -> ReportForm:
    return ReportForm(
        outcomes=[
            _entry(
                f"outcome-{o.mission_id}",
                o.mission_id,
                {"status": o.status, "comment": o.comment},
                o,
                o.mission,
            )
            for o in report.outcomes.all()
        ],
        results=[
            _entry(f"result-{r.indicator_id}", r.indicator_id, {"result": r.result}, r, r.indicator)
            for r in report.results.all()
        ],
        closing=_entry(
            "closing",
            None,
            {name: getattr(report, name) for name in CLOSING_FIELDS},
            report,
            None,
        ),
    )


@login_required
def report(request: HttpRequest, letter_id: int) -> HttpResponse:
    """The year-end report: a form for the référents while it is due (pre-filled from
    the letter's missions and indicators), a read-only page for everyone else."""
    user = signed_in_user(request)
    letter = letter_or_404(user, letter_id)
    report = _stored_report(letter.pk)
    if report is None:
        raise Http404(_("Le compte rendu n'est pas encore ouvert."))
    editable = report_refusal(letter, actor_for(user, letter)) is None
    form = _stored_form(report)
    if request.method == "POST":
        if not editable:
            raise PermissionDenied(_("Le compte rendu n'est pas modifiable par vous."))
        data = _changed_entries(request.POST, form)
        try:
            save_report(letter_id=letter.pk, user=user, data=data)
        except WorkflowError as exc:
            # Back as typed, over the report as it stands now; nothing saved.
            messages.error(request, exc.detail)
            report = _stored_report(letter.pk) or report
            form = _stored_form(report)
            conflicts = exc.conflicts if isinstance(exc, StaleEntries) else []
            _show_as_typed(request.POST, form, data, conflicts)
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
            "form": form,
            "editable": editable,
            "statuses": OutcomeStatus.choices,
            "standing_reason": reason,
            "standing_label": action_label(reason.action) if reason else "",
            # The report's own steps (hand in, acknowledge, return), fired from here.
            "actions": [t for t in available_transitions(letter, user) if not t.done],
        },
    )


def _keeps_theirs(post: QueryDict, entry: FormEntry) -> bool:
    """After a refusal, the person chose the other's text for ``entry``."""
    return post.get(f"keep-{entry.name}") == "theirs"


def _changed_entries(post: QueryDict, form: ReportForm) -> dict[str, Any]:
    """What the person changed, each entry with the revision it was read at; the
    entries they did not touch are left out, so that another's save to them stands."""
    data: dict[str, Any] = {"outcomes": [], "results": []}
    assert form.closing is not None
    if not _keeps_theirs(post, form.closing):
        for name in CLOSING_FIELDS:
            value = post.get(name, "")
            if touched(post, name, value):
                data[name] = value
        if any(name in data for name in CLOSING_FIELDS):
            data["revision"] = post.get("revision-closing")
    for entry in form.outcomes:
        status = post.get(f"status-{entry.id}", "")
        comment = post.get(f"comment-{entry.id}", "")
        if touched(post, entry.name, status, comment) and not _keeps_theirs(post, entry):
            data["outcomes"].append(
                {
                    "mission": entry.id,
                    "status": status,
                    "comment": comment,
                    "revision": post.get(f"revision-{entry.name}"),
                }
            )
    for entry in form.results:
        value = post.get(f"result-{entry.id}", "")
        if touched(post, entry.name, value) and not _keeps_theirs(post, entry):
            data["results"].append(
                {
                    "indicator": entry.id,
                    "result": value,
                    "revision": post.get(f"revision-{entry.name}"),
                }
            )
    return data


def _show_as_typed(
    post: QueryDict, form: ReportForm, data: dict[str, Any], conflicts: list[EntryConflict]
) -> None:
    """Put what the person changed back on the form of the report as it stands now, so
    that a refused save comes back as they typed it. An entry another person saved
    meanwhile shows their values beside the typed ones, and now names their revision:
    saving again keeps the person's text, unless they choose the other's. Every other
    changed entry keeps the revision and the fingerprints it was read at."""
    by_entry = {(c.entry, c.id): c for c in conflicts}
    typed: dict[str, dict[str, str]] = {
        f"outcome-{row['mission']}": {"status": row["status"], "comment": row["comment"]}
        for row in data["outcomes"]
    }
    typed |= {f"result-{row['indicator']}": {"result": row["result"]} for row in data["results"]}
    closing = {name: data[name] for name in CLOSING_FIELDS if name in data}
    if closing:
        typed["closing"] = closing
    for entry in form.entries():
        values = typed.get(entry.name)
        if values is None:
            continue
        entry.conflict = by_entry.get((entry.name.split("-")[0], entry.id))
        if entry.conflict is None:
            entry.revision = post.get(f"revision-{entry.name}")
            entry.shown = {name: post.get(shown_field(name), "") for name in entry.shown}
        elif entry.values.get("status"):
            entry.stored_status = str(OutcomeStatus(entry.values["status"]).label)
        entry.values = {**entry.values, **values}
