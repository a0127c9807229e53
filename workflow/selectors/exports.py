"""The DAN's export of an académie's letters for a school year: one row per letter,
with its référents, amounts, councils' opinions, signatures and report, as typed cells
that the CSV and XLSX writers format (DESIGN §8).

A fixed number of queries whatever the number of letters: the letters, their
référents, the audit events that brought them into their state, the opinions, the
signatures and the reports, each read once for the whole académie-year.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.imp import EnvelopePosition, envelope_position, envelope_weight, to_cents
from governance.models import Academy, CouncilKind, EstablishmentKind, SchoolYear, User
from governance.selectors import (
    dashboard_academies,
    may_see_dashboard,
    reads_every_academy,
    school_year_for,
)
from workflow.errors import InvalidInput, NotPermitted
from workflow.models import (
    AuditEvent,
    LetterReferent,
    LetterState,
    MissionLetter,
    Opinion,
    OpinionValue,
    RecognitionMode,
    Signature,
    SignatureQuality,
    YearEndReport,
)

Cell = str | int | Decimal | dt.date | None


class Kind(Enum):
    """How a column's cells are written: the CSV and the XLSX format each kind."""

    TEXT = "text"
    INTEGER = "integer"
    DATE = "date"
    EUROS = "euros"
    HOURS = "hours"


@dataclass(frozen=True)
class Column:
    label: str
    kind: Kind
    width: int  # in characters, for the XLSX


@dataclass(frozen=True)
class LettersExport:
    """The académie's letters of ``school_year``: ``columns`` and one row per letter."""

    academy: Academy
    school_year: SchoolYear
    columns: list[Column]
    rows: list[list[Cell]]

    @property
    def title(self) -> str:
        return _("Lettres de mission — %(academy)s — %(year)s") % {
            "academy": self.academy.name,
            "year": self.school_year.code,
        }

    @property
    def file_stem(self) -> str:
        """``lettres-de-mission-dijon-2026-2027``: the académie's code is a slug."""
        return f"lettres-de-mission-{self.academy.code}-{self.school_year.code}"


def _columns(referents: int) -> list[Column]:
    text, date, euros = Kind.TEXT, Kind.DATE, Kind.EUROS
    columns = [
        Column(_("UAI"), text, 10),
        Column(_("Établissement"), text, 36),
        Column(_("Type"), text, 12),
        Column(_("Commune"), text, 20),
        Column(_("Département"), text, 20),
        Column(_("Année scolaire"), text, 11),
        Column(_("État"), text, 26),
        Column(_("Dans cet état depuis le"), date, 12),
        Column(_("En vigueur le"), date, 12),
    ]
    for n in range(1, referents + 1):
        columns += [
            Column(_("Référent %(n)s") % {"n": n}, text, 22),
            Column(_("Reconnaissance %(n)s") % {"n": n}, text, 16),
            Column(_("Décharge %(n)s (h/semaine)") % {"n": n}, Kind.HOURS, 10),
            Column(_("Montant %(n)s (€)") % {"n": n}, euros, 12),
            Column(_("Signature %(n)s le") % {"n": n}, date, 12),
        ]
    columns += [
        Column(_("Total de la lettre (€)"), euros, 13),
        Column(_("Enveloppe de l'établissement (€)"), euros, 14),
        Column(_("Enveloppe"), text, 20),
        Column(_("Avis du conseil pédagogique"), text, 14),
        Column(_("Conseil pédagogique le"), date, 12),
        Column(_("Avis du conseil d'administration"), text, 14),
        Column(_("Conseil d'administration le"), date, 12),
        Column(_("Signature de la direction le"), date, 12),
        Column(_("Compte rendu"), text, 20),
        Column(_("Compte rendu remis le"), date, 12),
        Column(_("Lettre n°"), Kind.INTEGER, 9),
    ]
    return columns


def export_academy(user: User, code: str) -> Academy:
    """The académie ``user`` exports: ``code`` (``?academie=``), or the DAN's own (the
    first of them, should she have several). Who reads every académie (the national
    role, the administrators) names it. ``NotPermitted`` for whom has no dashboard or
    asks another académie than theirs, ``InvalidInput`` for an unknown or unnamed one."""
    if not may_see_dashboard(user):
        raise NotPermitted(_("Les exports sont ceux de la délégation académique."))
    readable = dashboard_academies(user)
    if not code:
        academy = None if reads_every_academy(user) else readable.first()
        if academy is None:
            message = _("Précisez l'académie à exporter.")
            raise InvalidInput({"academie": [message]}, message)
        return academy
    academy = Academy.objects.filter(code=code).first()
    if academy is None:
        message = _("L'académie « %(code)s » n'existe pas.") % {"code": code}
        raise InvalidInput({"academie": [message]}, message)
    if not readable.filter(pk=academy.pk).exists():
        raise NotPermitted(_("Vous n'exportez que les lettres de votre académie."))
    return academy


def export_school_year(code: str, today: dt.date) -> SchoolYear:
    """The school year ``code`` (``?annee=2026-2027``), the current one when empty;
    ``InvalidInput`` with a French message when there is no such year."""
    year = SchoolYear.objects.filter(code=code).first() if code else school_year_for(today)
    if year is None:
        message = (
            _("L'année scolaire « %(code)s » n'existe pas : choisissez-en une du tableau de bord.")
            % {"code": code}
            if code
            else _("Aucune année scolaire ne couvre la date du jour : précisez l'année.")
        )
        raise InvalidInput({"annee": [message]}, message)
    return year


def _day(moment: dt.datetime | None) -> dt.date | None:
    """The day of ``moment`` where the application runs (Europe/Paris)."""
    return moment.astimezone(timezone.get_current_timezone()).date() if moment else None


def _report_state(state: str, due: bool) -> str:
    """The year-end report's state, as the DAN follows it."""
    if state == LetterState.WITHDRAWN:
        return _("Sans objet")
    if state == LetterState.REPORT_DUE:
        return _("En retard") if due else _("Attendu")
    if state == LetterState.REPORT_SUBMITTED:
        return _("Remis")
    if state == LetterState.CLOSED:
        return _("Remis, lettre clôturée")
    return _("Pas encore attendu")


def letters_export(
    academy: Academy, school_year: SchoolYear, *, referent_columns: int
) -> LettersExport:
    """Every letter of ``academy`` for ``school_year``, one row each (see the module
    docstring), with ``referent_columns`` groups of columns for the référents (the most
    a letter may name). ``academy`` comes from ``export_academy``, which checked who
    asks."""
    today = timezone.localdate()
    mine = Q(letter__academy=academy, letter__school_year=school_year)
    letters = list(
        MissionLetter.objects.filter(academy=academy, school_year=school_year)
        .order_by("establishment__name", "id")
        .values_list(
            "id",
            "state",
            "version",
            "establishment_id",
            "establishment__uai",
            "establishment__name",
            "establishment__kind",
            "establishment__city",
            "establishment__department_code",
            "establishment__department_name",
        )
    )
    referents: dict[int, list[tuple[int, str, str, Decimal | None, Decimal | None]]] = defaultdict(
        list
    )
    envelopes: dict[int, Decimal] = defaultdict(Decimal)
    for letter_id, establishment_id, state, user_id, first, last, username, mode, imp, hours in (
        LetterReferent.objects.filter(mine)
        .order_by("letter_id", "order", "id")
        .values_list(
            "letter_id",
            "letter__establishment_id",
            "letter__state",
            "user_id",
            "user__first_name",
            "user__last_name",
            "user__username",
            "mode",
            "imp_amount",
            "decharge_hours",
        )
    ):
        name = f"{first} {last}".strip() or username
        referents[letter_id].append((user_id, name, mode, imp, hours))
        if state != LetterState.WITHDRAWN:  # as the envelope rule counts (envelope.py)
            envelopes[establishment_id] += envelope_weight(imp, hours)
    # When each letter entered its state (and came into force): the latest event that
    # brought it there from another state.
    entered: dict[tuple[int, str], dt.datetime] = {
        (letter_id, to_state): moment
        for letter_id, to_state, moment in AuditEvent.objects.filter(mine)
        .filter(Q(to_state=F("letter__state")) | Q(to_state=LetterState.IN_FORCE))
        .exclude(from_state=F("to_state"))
        .values("letter_id", "to_state")
        .annotate(moment=Max("created_at"))
        .values_list("letter_id", "to_state", "moment")
        .order_by()
    }
    # The councils' opinions on the letter's current version (a reopened concertation
    # makes a new version, which the councils see again).
    opinions: dict[tuple[int, str], tuple[str, dt.datetime]] = {}
    for letter_id, council, value, starts_at in (
        Opinion.objects.filter(mine, version=F("letter__version"))
        .order_by("meeting__starts_at", "id")
        .values_list("letter_id", "council", "opinion", "meeting__starts_at")
    ):
        opinions[(letter_id, council)] = (value, starts_at)
    signed: dict[tuple[int, int], dt.datetime] = {}
    heads_signed: dict[int, dt.datetime] = {}
    for letter_id, signer_id, quality, signed_at in (
        Signature.objects.filter(mine, version=F("letter__version"))
        .order_by("signed_at", "id")
        .values_list("letter_id", "signer_id", "quality", "signed_at")
    ):
        if quality == SignatureQuality.REFERENT:
            signed[(letter_id, signer_id)] = signed_at
        else:
            heads_signed[letter_id] = signed_at
    submitted = dict(
        YearEndReport.objects.filter(mine, submitted_at__isnull=False).values_list(
            "letter_id", "submitted_at"
        )
    )
    due = today > academy.report_due_on(school_year)
    positions = {value: str(label) for value, label in EnvelopePosition.choices}
    # Every label translated once, not once per row.
    opinion_labels = {value: str(label) for value, label in OpinionValue.choices}
    mode_labels = {value: str(label) for value, label in RecognitionMode.choices}
    kind_labels = {value: str(label) for value, label in EstablishmentKind.choices}
    state_labels = {value: str(label) for value, label in LetterState.choices}
    report_states = {value: _report_state(value, due) for value in LetterState.values}
    rows: list[list[Cell]] = []
    for (
        letter_id,
        state,
        _version,
        establishment_id,
        uai,
        name,
        kind,
        city,
        department_code,
        department_name,
    ) in letters:
        envelope = to_cents(envelopes.get(establishment_id, Decimal("0")))
        row: list[Cell] = [
            uai,
            name,
            kind_labels.get(kind, kind),
            city,
            " – ".join(part for part in (department_code, department_name) if part),
            school_year.code,
            state_labels.get(state, state),
            _day(entered.get((letter_id, state))),
            _day(entered.get((letter_id, LetterState.IN_FORCE))),
        ]
        total = Decimal("0")
        named = referents.get(letter_id, [])
        for n in range(referent_columns):
            if n >= len(named):
                row += [None, None, None, None, None]
                continue
            user_id, person, mode, imp, hours = named[n]
            amount = to_cents(envelope_weight(imp, hours))
            total += amount
            row += [
                person,
                mode_labels.get(mode, mode),
                hours,
                amount,
                _day(signed.get((letter_id, user_id))),
            ]
        pedagogical = opinions.get((letter_id, CouncilKind.PEDAGOGICAL))
        board = opinions.get((letter_id, CouncilKind.BOARD))
        row += [
            total,
            envelope,
            positions[envelope_position(envelope)],
            opinion_labels.get(pedagogical[0]) if pedagogical else None,
            _day(pedagogical[1]) if pedagogical else None,
            opinion_labels.get(board[0]) if board else None,
            _day(board[1]) if board else None,
            _day(heads_signed.get(letter_id)),
            report_states.get(state, ""),
            _day(submitted.get(letter_id)),
            letter_id,
        ]
        rows.append(row)
    return LettersExport(academy, school_year, _columns(referent_columns), rows)
