"""The letter and its year-end report as printable PDFs (WeasyPrint), laid out like the
real letter of seed 004: parties, legal references, recognition, missions by heading,
indicators, means, follow-up, the councils' opinions and the signatures with their hash.

A PDF is made from a *snapshot* (``workflow.snapshot.full_snapshot`` or an audit
event's stored one), never from live rows, so an archive shows the letter exactly as it
stood at that step. The letter is a French administrative document: its PDFs are French
whatever the language of the page that asks for them (the labels too).
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from governance.imp import format_euros
from workflow.audit.versions import referent_names
from workflow.models import (
    AuditEvent,
    FollowUp,
    LetterState,
    Means,
    OpinionValue,
    OutcomeStatus,
    PeriodKind,
    SignatureQuality,
    choice_label,
)

PANGO_HINT = (
    "WeasyPrint needs Pango to make PDFs. On Debian or Ubuntu: "
    "apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core"
)


HARFBUZZ_SUBSET_HINT = (
    "WeasyPrint subsets the PDFs' fonts with HarfBuzz-Subset, or else with fontTools, "
    "about four times slower. On Debian or Ubuntu: apt-get install libharfbuzz-subset0"
)


class PdfUnavailable(RuntimeError):
    """The system libraries WeasyPrint needs are missing."""


def _date(value: str | None) -> str:
    return dt.date.fromisoformat(value).strftime("%d/%m/%Y") if value else "…"


def _moment(value: str | None) -> str:
    if not value:
        return ""
    moment = timezone.localtime(dt.datetime.fromisoformat(value))
    return moment.strftime("%d/%m/%Y à %H:%M")


def _report(report: dict[str, Any] | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {**report, "submitted_at_label": _moment(report.get("submitted_at"))}


def letter_context(
    snapshot: dict[str, Any], *, event: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What the template shows, from a full snapshot (see module docstring)."""
    content = snapshot["content"]
    names = referent_names(content)
    headings: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
    for mission in content["missions"]:
        headings.setdefault(mission["heading"] or "Autres missions", []).append(
            {**mission, "carried_by": [names.get(u, u) for u in mission["referents"]]}
        )
    referents = [
        {
            **r,
            "recognition": (
                f"IMP de {format_euros(Decimal(r['imp_amount']))}"
                if r["mode"] == "imp"
                else f"décharge de {r['decharge_hours'].replace('.', ',')} h hebdomadaire"
            ),
        }
        for r in content["referents"]
    ]
    return {
        "snapshot": snapshot,
        "content": content,
        "state_label": choice_label(LetterState, snapshot["state"]),
        "period_label": choice_label(PeriodKind, content["period"]["kind"]),
        "period_start": _date(content["period"]["start"]),
        "period_end": _date(content["period"]["end"]),
        "referents": referents,
        "shared": len(referents) > 1,
        "headings": headings,
        "means": [choice_label(Means, m) for m in content["means"]],
        "follow_up": choice_label(FollowUp, content["follow_up"]),
        "opinions": [
            {
                **o,
                "council_label": "Conseil pédagogique"
                if o["council"] == "pedagogical"
                else "Conseil d'administration",
                "opinion_label": choice_label(OpinionValue, o["opinion"]),
            }
            for o in snapshot["opinions"]
        ],
        "signatures": [
            {
                **s,
                "quality_label": choice_label(SignatureQuality, s["quality"]),
                "signed_at_label": _moment(s["signed_at"]),
            }
            for s in snapshot["signatures"]
            if s["version"] == content["version"]
        ],
        "report": _report(snapshot.get("report")),
        "outcome_labels": {value: str(label) for value, label in OutcomeStatus.choices},
        "event": event,
        "printed_at": timezone.localtime().strftime("%d/%m/%Y à %H:%M"),
    }


def _html_to_pdf(html: str, *, pdf_variant: str | None = None) -> bytes:
    try:
        from weasyprint import HTML
    except OSError as exc:  # the shared libraries are missing
        raise PdfUnavailable(PANGO_HINT) from exc
    return HTML(string=html).write_pdf(pdf_variant=pdf_variant)


def render_letter_pdf(
    snapshot: dict[str, Any],
    *,
    event: dict[str, Any] | None = None,
    seal: dict[str, Any] | None = None,
) -> bytes:
    """The letter's PDF. ``seal`` (``verify_url`` and its QR code's ``qr`` data URI):
    the sealed letter's copy, a PDF/A-3b that prints where anyone can check it."""
    with translation.override(settings.LANGUAGE_CODE):
        html = render_to_string(
            "workflow/letter_pdf.html", {**letter_context(snapshot, event=event), "seal": seal}
        )
    return _html_to_pdf(html, pdf_variant="pdf/a-3b" if seal else None)


def render_event_pdf(event: AuditEvent, *, action_label: str) -> bytes:
    """The archive of one step of the history: the letter as the event's snapshot holds
    it, with the step's number, French name (``action_label``, the history's name of
    its action, ``workflow.lifecycle.table.action_label``), moment, actor and hash at
    its foot."""
    return render_letter_pdf(
        event.snapshot,
        event={
            "sequence": event.sequence,
            "action": event.action,
            "action_label": action_label,
            "created_at": timezone.localtime(event.created_at).strftime("%d/%m/%Y à %H:%M"),
            "actor_label": event.actor_label,
            "hash": event.hash,
        },
    )


def render_report_pdf(snapshot: dict[str, Any]) -> bytes:
    with translation.override(settings.LANGUAGE_CODE):
        html = render_to_string("workflow/report_pdf.html", letter_context(snapshot))
    return _html_to_pdf(html)
