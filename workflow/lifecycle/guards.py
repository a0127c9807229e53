"""The conditions of the transitions (DESIGN §4), each explaining itself: a list of
unmet conditions, each with a stable code and a French message. Empty means "go".
These functions read only; they never change anything.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from governance.imp import check_envelope, validate_recognition
from workflow.audit.snapshot import letter_contents
from workflow.errors import Unmet
from workflow.models import MissionLetter, YearEndReport
from workflow.selectors.envelope import envelopes_for


def open_concertation_unmet(letter: MissionLetter) -> list[Unmet]:
    """≥1 référent, ≥1 mission each carried by someone, the period set within the
    school year, every recognition valid and the envelope not exceeded.

    The content and the envelope are read as rows (``letter_contents``,
    ``envelopes_for``): every draft on a principal's « À faire » is judged here."""
    unmet: list[Unmet] = []
    content = letter_contents([letter.pk])[letter.pk]
    if not content.referents:
        unmet.append(Unmet("no_referent", _("Désignez au moins un référent numérique.")))
    if not content.missions:
        unmet.append(Unmet("no_mission", _("Listez au moins une mission.")))
    unassigned = [m for m in content.missions if not m.referents]
    if unassigned:
        unmet.append(
            Unmet(
                "mission_unassigned",
                _(
                    "Chaque mission doit être confiée à au moins un référent ; ce n'est pas le "
                    "cas de : %(missions)s."
                )
                % {"missions": " ; ".join(m.text for m in unassigned)},
            )
        )
    if letter.period_start is None or letter.period_end is None:
        unmet.append(Unmet("period_missing", _("Précisez la période couverte par la lettre.")))
    elif not (
        letter.school_year.starts_on <= letter.period_start
        and letter.period_end <= letter.school_year.ends_on
    ):
        unmet.append(
            Unmet(
                "period_outside_school_year",
                _("La période doit rester dans l'année scolaire %(year)s.")
                % {"year": letter.school_year.code},
            )
        )
    for referent in content.referents:
        try:
            validate_recognition(referent.imp_amount, referent.decharge_hours)
        except ValidationError as exc:
            unmet.append(
                Unmet(
                    "recognition_invalid",
                    f"{referent.name or referent.username} : " + " ".join(exc.messages),
                )
            )
    pair = (letter.establishment_id, letter.school_year_id)
    unmet.extend(
        Unmet(finding.code, finding.message)
        for finding in check_envelope(envelopes_for([pair])[pair])
        if finding.blocking
    )
    return unmet


def agreements_unmet(letter: MissionLetter) -> list[Unmet]:
    """Every référent agreed on the version standing now."""
    missing = [
        r.user.get_full_name() or r.user.username
        for r in letter.referents.select_related("user")
        if r.agreed_version != letter.version
    ]
    if not missing:
        return []
    return [
        Unmet(
            "agreement_missing",
            _("Accord attendu sur la version %(version)s de : %(names)s.")
            % {"version": letter.version, "names": ", ".join(missing)},
        )
    ]


def report_window_unmet(letter: MissionLetter, today: dt.date) -> list[Unmet]:
    """For the scheduler: the report window opens on the académie's date, or at the end
    of the letter's period if that comes first."""
    opens_on = letter.establishment.academy.report_window_opens_on(letter.school_year)
    if letter.period_end is not None:
        opens_on = min(opens_on, letter.period_end)
    if today >= opens_on:
        return []
    return [
        Unmet(
            "report_window_not_open",
            _("Le compte rendu s'ouvre le %(date)s.") % {"date": opens_on.strftime("%d/%m/%Y")},
        )
    ]


def report_complete_unmet(letter: MissionLetter) -> list[Unmet]:
    """Every mission has its outcome and every indicator its result."""
    report = YearEndReport.objects.filter(letter=letter).first()
    if report is None:
        return [Unmet("report_missing", _("Le compte rendu n'a pas encore été ouvert."))]
    unmet: list[Unmet] = []
    missing_outcomes = [
        o.mission.text for o in report.outcomes.select_related("mission") if not o.status
    ]
    if missing_outcomes:
        unmet.append(
            Unmet(
                "report_incomplete",
                _("Indiquez la réalisation de : %(missions)s.")
                % {"missions": " ; ".join(missing_outcomes)},
            )
        )
    missing_results = [
        r.indicator.text for r in report.results.select_related("indicator") if not r.result.strip()
    ]
    if missing_results:
        unmet.append(
            Unmet(
                "report_incomplete",
                _("Indiquez le résultat des indicateurs : %(indicators)s.")
                % {"indicators": " ; ".join(missing_results)},
            )
        )
    return unmet
