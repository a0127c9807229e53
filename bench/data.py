"""A national-scale data set for the benchmark (issue 8): académies, establishments,
their people and councils, and letters in every state with their whole history.

Why not the services: making 60 000 letters through ``fire_transition`` would take
hours. Rows are built in memory and written with ``bulk_create`` in batches, but they
are the rows the services would have written: every letter has its audit chain,
hashed with ``workflow.audit.event_hash`` exactly as ``record_event`` does (so
``verify_audit`` passes), its référents, missions, indicators, comments, the councils'
meetings, agendas and opinions, signatures on the content's sha256, the year-end
report, and one processed outbox row per event (the notification history).

Every account gets the password ``bench``: this is why the generator refuses to run
unless ``ALLOW_BENCH_DATA`` is set, and refuses to run twice on the same database.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from governance.models import (
    Academy,
    CatalogItem,
    Council,
    CouncilKind,
    Establishment,
    EstablishmentKind,
    HolidayZone,
    Meeting,
    Role,
    RoleAssignment,
    SchoolYear,
    User,
)
from governance.selectors import school_year_code_for
from governance.services import load_catalogue
from governance.uai import uai_check_letter
from workflow.audit.chain import event_hash
from workflow.audit.snapshot import (
    IndicatorRow,
    LetterContent,
    MissionRow,
    ReferentRow,
    agreement_entry,
    canonical_json,
    content_snapshot,
    opinion_entry,
    sha256_hex,
    signature_entry,
)
from workflow.models import (
    AgendaItem,
    AuditEvent,
    Comment,
    IndicatorResult,
    LetterIndicator,
    LetterMission,
    LetterReferent,
    LetterState,
    LetterVersion,
    MissionLetter,
    MissionOutcome,
    Opinion,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    Signature,
    SignatureQuality,
    YearEndReport,
)

BENCH_PASSWORD = "bench"


ACADEMY_PREFIX = "bench-"


UAI_BASE = 9000000  # 9xxxxxxY: a range no real UAI of metropolitan France uses


ESTABLISHMENTS_PER_ACADEMY = 260  # 7 800 EPLE over 30 académies


SECOND_LETTER_SHARE = 0.55  # establishment-years with a second letter (a second référent)


BATCH = 2000


SCHOOLS_PER_WRITE = 200  # ≈ 310 letters and 3 000 events per round of bulk inserts


PARIS = ZoneInfo("Europe/Paris")


S = LetterState


# Where letters of the current school year stand in late autumn, and of past years.
CURRENT_YEAR_STATES = [
    (S.DRAFT, 12),
    (S.CONCERTATION, 18),
    (S.PEDAGOGICAL_COUNCIL, 12),
    (S.BOARD, 10),
    (S.SIGNATURE, 10),
    (S.IN_FORCE, 33),
    (S.REPORT_DUE, 1),
    (S.WITHDRAWN, 4),
]


PAST_YEAR_STATES = [
    (S.CLOSED, 86),
    (S.REPORT_SUBMITTED, 3),
    (S.REPORT_DUE, 4),
    (S.WITHDRAWN, 7),
]


# The path of a letter through the lifecycle, up to the state it is in.
PATH = [
    S.DRAFT,
    S.CONCERTATION,
    S.PEDAGOGICAL_COUNCIL,
    S.BOARD,
    S.SIGNATURE,
    S.IN_FORCE,
    S.REPORT_DUE,
    S.REPORT_SUBMITTED,
    S.CLOSED,
]


FIRST_NAMES = ["Claire", "Julien", "Sophie", "Karim", "Anne", "Luc", "Isabelle", "Thomas"]


LAST_NAMES = ["Martin", "Bernard", "Durand", "Benali", "Petit", "Moreau", "Roux", "Garnier"]


STAFF = [
    ("principal", Role.PRINCIPAL),
    ("deputy", Role.DEPUTY),
    ("cp", Role.CP_SECRETARY),
    ("ca", Role.CA_SECRETARY),
    ("teacher1", Role.TEACHER),
    ("teacher2", Role.TEACHER),
    ("teacher3", Role.TEACHER),
]


class BenchDataRefused(Exception):
    """The generator may not run here (not allowed, or already run)."""


@dataclass
class Summary:
    academies: int = 0
    establishments: int = 0
    users: int = 0
    letters: int = 0
    events: int = 0
    comments: int = 0
    meetings: int = 0
    opinions: int = 0
    signatures: int = 0
    outbox: int = 0
    states: Counter[str] = field(default_factory=Counter)


def bench_uai(index: int) -> str:
    digits = f"{UAI_BASE + index:07d}"
    return digits + uai_check_letter(digits)


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=PARIS)


def _school_years(count: int, today: dt.date) -> list[SchoolYear]:
    """``count`` school years ending with the current one."""
    current = int(school_year_code_for(today)[:4])
    years = []
    for first in range(current - count + 1, current + 1):
        year, _created = SchoolYear.objects.get_or_create(
            code=f"{first}-{first + 1}",
            defaults={"starts_on": dt.date(first, 9, 1), "ends_on": dt.date(first + 1, 8, 31)},
        )
        years.append(year)
    return years


def _target_state(rng: random.Random, index: int, current: bool) -> str:
    """Every state appears in the first letters, whatever the scale; then the weights."""
    if index < len(LetterState.values):
        return LetterState.values[index]
    weights = CURRENT_YEAR_STATES if current else PAST_YEAR_STATES
    return rng.choices([s for s, _w in weights], [w for _s, w in weights])[0]


class _Letter:
    """One letter being built: its rows, and the running state its events snapshot."""

    def __init__(self, row: MissionLetter, people: dict[str, User]) -> None:
        self.row = row
        self.people = people
        self.referents: list[LetterReferent] = []
        self.missions: list[tuple[LetterMission, list[LetterReferent]]] = []
        self.indicators: list[LetterIndicator] = []
        self.opinions: list[Opinion] = []
        self.signatures: list[Signature] = []
        self.report: dict[str, Any] | None = None
        self.events: list[AuditEvent] = []
        self.content: dict[str, Any] = {}
        self.content_sha = ""


class Generator:
    def __init__(
        self,
        establishments: int,
        years: int,
        *,
        seed: int = 8,
        today: dt.date | None = None,
        per_academy: int = ESTABLISHMENTS_PER_ACADEMY,
        second_letter_share: float = SECOND_LETTER_SHARE,
        log: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.establishments = establishments
        self.years = years
        self.per_academy = per_academy
        self.second_letter_share = second_letter_share
        self.rng = random.Random(seed)
        self.today = today or timezone.localdate()
        self.now = timezone.now()
        self.log = log
        self.summary = Summary()
        self.password = make_password(BENCH_PASSWORD)
        self.letter_index = 0
        self.schools: list[tuple[Establishment, dict[str, User]]] = []
        self.meetings: dict[tuple[int, str, int], Meeting] = {}

    # Set-up ---------------------------------------------------------------------------

    def run(self) -> Summary:
        if not settings.ALLOW_BENCH_DATA:
            raise BenchDataRefused(
                "Données de banc d'essai refusées ici (ALLOW_BENCH_DATA est faux) : leurs "
                "comptes ont tous le mot de passe « bench »."
            )
        if Academy.objects.filter(code__startswith=ACADEMY_PREFIX).exists():
            raise BenchDataRefused(
                "Cette base contient déjà des données de banc d'essai : partez d'une base "
                "neuve (migrate) pour en générer d'autres."
            )
        with transaction.atomic():
            load_catalogue()
            self.items = list(CatalogItem.objects.filter(is_active=True).select_related("heading"))
            self.school_years = _school_years(self.years, self.today)
            self.current_year = self.school_years[-1]
            count = max(1, -(-self.establishments // self.per_academy))
            zones = [HolidayZone.A, HolidayZone.B, HolidayZone.C]
            academies = Academy.objects.bulk_create(
                Academy(
                    code=f"{ACADEMY_PREFIX}{n + 1:02d}",
                    name=f"Académie d'essai {n + 1:02d}",
                    holiday_zone=zones[n % 3],
                )
                for n in range(count)
            )
            self.summary.academies = len(academies)
            dans = []
            for academy in academies:
                dan = self._user(f"dan-{academy.code}", "Nadia", "Lefèvre")
                dans.append(dan)
            User.objects.bulk_create(dans)
            RoleAssignment.objects.bulk_create(
                RoleAssignment(user=dan, role=Role.DAN, academy=academy)
                for dan, academy in zip(dans, academies, strict=True)
            )
            self.summary.users += len(dans)
            for start in range(0, self.establishments, 200):
                stop = min(start + 200, self.establishments)
                self._establishments(academies, range(start, stop))
                self.log(f"{stop}/{self.establishments} établissements et leurs conseils")
            for year in self.school_years:
                self._letters_of_year(year)
            self._dates_from_history()
        return self.summary

    def _user(self, username: str, first: str, last: str) -> User:
        return User(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@bench.invalid",
            password=self.password,
            discipline="",
        )

    # Establishments, people, councils ----------------------------------------------------

    def _establishments(self, academies: list[Academy], indexes: range) -> None:
        rng = self.rng
        kinds = [EstablishmentKind.COLLEGE] * 7 + [EstablishmentKind.LYCEE] * 3
        establishments = Establishment.objects.bulk_create(
            Establishment(
                uai=bench_uai(i),
                name=f"{'Collège' if (kind := rng.choice(kinds)) == 'college' else 'Lycée'} "
                f"d'essai n° {i + 1}",
                kind=kind,
                city="Commune d'essai",
                local_authority="Département d'essai" if kind == "college" else "Région d'essai",
                academy=academies[i // self.per_academy],
            )
            for i in indexes
        )
        self.summary.establishments += len(establishments)
        people: list[dict[str, User]] = []
        users: list[User] = []
        for establishment in establishments:
            staff = {
                key: self._user(
                    f"{key}-{establishment.uai.lower()}",
                    rng.choice(FIRST_NAMES),
                    rng.choice(LAST_NAMES),
                )
                for key, _role in STAFF
            }
            people.append(staff)
            users.extend(staff.values())
        User.objects.bulk_create(users, batch_size=BATCH)
        self.summary.users += len(users)
        RoleAssignment.objects.bulk_create(
            (
                RoleAssignment(user=staff[key], role=role, establishment=establishment)
                for establishment, staff in zip(establishments, people, strict=True)
                for key, role in STAFF
            ),
            batch_size=BATCH,
        )
        councils = Council.objects.bulk_create(
            Council(establishment=e, kind=kind, members_in_office=members)
            for e in establishments
            for kind, members in ((CouncilKind.PEDAGOGICAL, 15), (CouncilKind.BOARD, 30))
        )
        meetings: list[Meeting] = []
        for council in councils:
            for year in self.school_years:
                offset = 40 if council.kind == CouncilKind.PEDAGOGICAL else 55
                days = [offset] + ([offset + 120] if year == self.current_year else [])
                meetings.extend(
                    Meeting(
                        council=council,
                        starts_at=_at(year.starts_on + dt.timedelta(days=d), 18),
                        members_in_office=council.members_in_office,
                        location="Salle du conseil",
                    )
                    for d in days
                )
        Meeting.objects.bulk_create(meetings, batch_size=BATCH)
        self.summary.meetings += len(meetings)
        first_meeting: dict[tuple[int, str, int], Meeting] = {}
        for meeting in meetings:
            key = (meeting.council.establishment_id, meeting.council.kind, meeting.starts_at.year)
            first_meeting.setdefault(key, meeting)
        self.meetings.update(first_meeting)
        self.schools.extend(zip(establishments, people, strict=True))

    # Letters -------------------------------------------------------------------------

    def _letters_of_year(self, year: SchoolYear) -> None:
        """Every school's letters of one school year, the schools in a shuffled order.

        Letters are written year after year and, within a year, across every académie:
        as in real life, where each rentrée's letters are drafted in every school at once.
        Ids then interleave the académies; a generator that wrote school after school
        would give each académie a block of ids, and a list ordered by id a plan (walk
        the primary key) that real data would not give it."""
        rng = self.rng
        current = year == self.current_year
        schools = list(self.schools)
        rng.shuffle(schools)
        for start in range(0, len(schools), SCHOOLS_PER_WRITE):
            letters: list[_Letter] = []
            for establishment, staff in schools[start : start + SCHOOLS_PER_WRITE]:
                count = 2 if rng.random() < self.second_letter_share else 1
                for n in range(count):
                    state = _target_state(rng, self.letter_index, current)
                    self.letter_index += 1
                    letters.append(self._plan_letter(establishment, year, staff, state, n))
            self._write_letters(letters)
            self.log(
                f"{year} : {min(start + SCHOOLS_PER_WRITE, len(schools))}/{len(schools)} "
                f"établissements, {self.summary.letters} lettres, "
                f"{self.summary.events} événements"
            )

    def _plan_letter(
        self,
        establishment: Establishment,
        year: SchoolYear,
        staff: dict[str, User],
        state: str,
        number: int,
    ) -> _Letter:
        rng = self.rng
        row = MissionLetter(
            establishment=establishment,
            academy_id=establishment.academy_id,  # bulk_create does not call save
            school_year=year,
            state=state,
            version=1,
            period_start=year.starts_on,
            period_end=year.ends_on,
            means=sorted(rng.sample(["office", "phone", "equipment", "ticketing"], 2)),
            follow_up="annual_review",
            qualification="Formation DANE niveau 2" if rng.random() < 0.5 else "",
            created_by=staff["principal"],
        )
        plan = _Letter(row, staff)
        if number == 0 and rng.random() < 0.3:
            teachers = [("teacher1", "imp", "625.00"), ("teacher2", "imp", "625.00")]
        elif number == 0:
            mode = rng.choice(["imp", "decharge"])
            teachers = [("teacher1", mode, "1250.00" if mode == "imp" else "1.00")]
        else:
            teachers = [("teacher3", "imp", "1250.00")]
        for order, (key, mode, amount) in enumerate(teachers):
            plan.referents.append(
                LetterReferent(
                    user=staff[key],
                    mode=mode,
                    imp_amount=Decimal(amount) if mode == "imp" else None,
                    decharge_hours=Decimal(amount) if mode == "decharge" else None,
                    share="Accompagnement des équipes" if order == 0 else "ENT et site web",
                    order=order,
                )
            )
        for order, item in enumerate(rng.sample(self.items, rng.randint(3, 4))):
            carried = [plan.referents[order % len(plan.referents)]]
            mission = LetterMission(
                catalog_item=item,
                text=item.text,
                priority="principal" if order < 2 else "secondary",
                order=order,
            )
            plan.missions.append((mission, carried))
        plan.indicators = [
            LetterIndicator(text="Sessions de prise en main proposées", target="6 par an", order=0),
            LetterIndicator(text="Élèves certifiés PIX", target="80 %", order=1),
        ]
        return plan

    def _content(self, plan: _Letter) -> dict[str, Any]:
        """``workflow.snapshot.content_snapshot`` of the planned letter, from the rows
        as written (``letter_contents`` would read the same back)."""
        referents = tuple(
            ReferentRow(
                r.pk,
                r.user.username,
                r.user.get_full_name(),
                r.user.discipline,
                r.mode,
                r.imp_amount,
                r.decharge_hours,
                r.share,
                None,
            )
            for r in plan.referents
        )
        missions = []
        for mission, carried in plan.missions:
            item = mission.catalog_item
            assert item is not None
            missions.append(
                MissionRow(
                    mission.pk,
                    item.pk,
                    item.code,
                    item.heading.title,
                    item.outside_scope,
                    item.scope_note,
                    mission.text,
                    mission.priority,
                    tuple(sorted(r.user.username for r in carried)),
                )
            )
        indicators = tuple(IndicatorRow(i.pk, i.text, i.target) for i in plan.indicators)
        return content_snapshot(plan.row, LetterContent(referents, tuple(missions), indicators))

    def _snapshot(self, plan: _Letter, state: str) -> dict[str, Any]:
        """``workflow.snapshot.full_snapshot`` of the letter as it stands now."""
        return {
            "state": state,
            "content": plan.content,
            "content_sha256": plan.content_sha,
            "agreements": [
                agreement_entry(r.user.username, r.agreed_version) for r in plan.referents
            ],
            "opinions": [opinion_entry(o) for o in plan.opinions],
            "signatures": [signature_entry(s) for s in plan.signatures],
            "report": plan.report,
        }

    def _event(
        self,
        plan: _Letter,
        moment: dt.datetime,
        action: str,
        from_state: str,
        to_state: str,
        actor: User | None,
        quality: str,
        payload: dict[str, Any],
    ) -> None:
        snapshot = self._snapshot(plan, to_state)
        previous = plan.events[-1].hash if plan.events else ""
        event = AuditEvent(
            letter=plan.row,
            sequence=len(plan.events) + 1,
            action=action,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            actor_label="Système (échéancier)" if actor is None else actor.get_full_name(),
            quality=quality,
            created_at=moment,
            payload=payload,
            snapshot=snapshot,
            snapshot_sha256=sha256_hex(canonical_json(snapshot)),
            previous_hash=previous,
        )
        event.hash = event_hash(event)
        plan.events.append(event)

    def _history(self, plan: _Letter) -> None:
        """Walk the letter from its creation to its state, writing each event and the
        rows each step leaves (agreements, agenda and opinions, signatures, report)."""
        rng = self.rng
        row, staff = plan.row, plan.people
        year = row.school_year
        target = row.state
        withdrawn = target == S.WITHDRAWN
        goal = rng.choice(PATH[:5]) if withdrawn else target
        # Events are spaced by a few days; the current year's never reach the future.
        moment = _at(year.starts_on - dt.timedelta(days=70 - rng.randint(0, 15)), 9)
        limit = self.now - dt.timedelta(hours=2)

        def step(days: int) -> dt.datetime:
            nonlocal moment
            moment = min(moment + dt.timedelta(days=days, minutes=rng.randint(1, 600)), limit)
            return moment

        principal = staff["principal"]
        self._event(plan, step(0), "create", "", S.DRAFT, principal, "principal", {})
        stop = PATH.index(LetterState(goal))
        state = S.DRAFT
        if stop >= 1:
            step(rng.randint(3, 15))
            self._event(
                plan,
                moment,
                "open_concertation",
                S.DRAFT,
                S.CONCERTATION,
                principal,
                "principal",
                {"version": 1},
            )
            state = S.CONCERTATION
            agreeing = plan.referents if stop >= 2 else plan.referents[: rng.randint(0, 1)]
            for referent in agreeing:
                referent.agreed_version = 1
                referent.agreed_at = step(rng.randint(1, 6))
                self._event(
                    plan,
                    moment,
                    "agree",
                    S.CONCERTATION,
                    S.CONCERTATION,
                    referent.user,
                    "referent",
                    {"version": 1},
                )
        for council, action, source, goes_to, key, _meeting_key in (
            (
                "pedagogical",
                "submit_to_pedagogical_council",
                S.CONCERTATION,
                S.PEDAGOGICAL_COUNCIL,
                None,
                None,
            ),
            (
                "pedagogical",
                "record_pedagogical_opinion",
                S.PEDAGOGICAL_COUNCIL,
                S.BOARD,
                "cp",
                "pedagogical",
            ),
            ("board", "record_board_opinion", S.BOARD, S.SIGNATURE, "ca", "board"),
        ):
            if stop < PATH.index(goes_to):
                break
            meeting = self.meetings[
                (row.establishment_id, council, (year.starts_on + dt.timedelta(days=60)).year)
            ]
            if key is None:
                step(rng.randint(2, 8))
                self._event(
                    plan,
                    moment,
                    action,
                    source,
                    goes_to,
                    principal,
                    "principal",
                    {"meeting": meeting.pk},
                )
            else:
                members = meeting.members_in_office
                opinion = Opinion(
                    letter=row,
                    meeting=meeting,
                    council=council,
                    version=1,
                    opinion="favorable" if rng.random() < 0.93 else "reserve",
                    votes_for=members - 6 if council == "board" else None,
                    votes_against=1 if council == "board" else None,
                    abstentions=2 if council == "board" else None,
                    not_voting=0 if council == "board" else None,
                    members_present=members - 3 if council == "board" else None,
                    quorum_met=True if council == "board" else None,
                    remarks="",
                    recorded_by=staff[key],
                )
                plan.opinions.append(opinion)
                step(rng.randint(2, 8))
                self._event(
                    plan,
                    moment,
                    action,
                    source,
                    goes_to,
                    staff[key],
                    "cp_secretary" if key == "cp" else "ca_secretary",
                    {"meeting": meeting.pk, "opinion": opinion.opinion},
                )
            state = goes_to
        if stop >= PATH.index(S.SIGNATURE):
            signers = [(principal, SignatureQuality.PRINCIPAL)] + [
                (r.user, SignatureQuality.REFERENT) for r in plan.referents
            ]
            if stop == PATH.index(S.SIGNATURE):
                signers = signers[: rng.randint(0, len(signers) - 1)]
            for index, (signer, quality) in enumerate(signers):
                signed_at = step(rng.randint(1, 5))
                plan.signatures.append(
                    Signature(
                        letter=row,
                        signer=signer,
                        signer_name=signer.get_full_name(),
                        quality=quality,
                        version=1,
                        snapshot_sha256=plan.content_sha,
                        signed_at=signed_at,
                    )
                )
                last = index == len(plan.referents) and stop > PATH.index(S.SIGNATURE)
                self._event(
                    plan,
                    moment,
                    "sign",
                    S.SIGNATURE,
                    S.IN_FORCE if last else S.SIGNATURE,
                    signer,
                    str(quality),
                    {
                        "quality": str(quality),
                        "version": 1,
                        "snapshot_sha256": plan.content_sha,
                        "signed_at": signed_at.isoformat(),
                    },
                )
            if stop > PATH.index(S.SIGNATURE):
                state = S.IN_FORCE
        if stop >= PATH.index(S.REPORT_DUE):
            opens = _at(year.ends_on.replace(month=6, day=1), 6)
            moment = min(max(moment, opens), limit)
            plan.report = {
                "difficulties": "",
                "training_needs": "",
                "proposals": "",
                "submitted_at": None,
                "outcomes": [
                    {"mission": m.text, "status": "", "comment": ""} for m, _ in plan.missions
                ],
                "results": [{"indicator": i.text, "result": ""} for i in plan.indicators],
            }
            self._event(
                plan,
                moment,
                "open_report",
                S.IN_FORCE,
                S.REPORT_DUE,
                None,
                "system",
                {"reason": ""},
            )
            state = S.REPORT_DUE
        if stop >= PATH.index(S.REPORT_SUBMITTED):
            submitted = step(rng.randint(5, 25))
            assert plan.report is not None
            plan.report = {
                **plan.report,
                "difficulties": "Temps de décharge court",
                "training_needs": "Formation ENT",
                "proposals": "Reconduire la mission",
                "submitted_at": submitted.isoformat(),
                "outcomes": [
                    {"mission": m.text, "status": "done", "comment": ""} for m, _ in plan.missions
                ],
                "results": [{"indicator": i.text, "result": "Atteint"} for i in plan.indicators],
            }
            self._event(
                plan,
                moment,
                "submit_report",
                S.REPORT_DUE,
                S.REPORT_SUBMITTED,
                plan.referents[0].user,
                "referent",
                {},
            )
            state = S.REPORT_SUBMITTED
        if stop >= PATH.index(S.CLOSED):
            step(rng.randint(3, 20))
            self._event(
                plan,
                moment,
                "acknowledge_report",
                S.REPORT_SUBMITTED,
                S.CLOSED,
                principal,
                "principal",
                {},
            )
            state = S.CLOSED
        if withdrawn:
            step(rng.randint(2, 20))
            self._event(
                plan,
                moment,
                "withdraw",
                state,
                S.WITHDRAWN,
                principal,
                "principal",
                {"reason": "Le référent quitte l'établissement."},
            )
            state = S.WITHDRAWN
        assert state == target, (state, target)

    def _write_letters(self, plans: list[_Letter]) -> None:
        rng = self.rng
        MissionLetter.objects.bulk_create([p.row for p in plans], batch_size=BATCH)
        for plan in plans:
            for referent in plan.referents:
                referent.letter = plan.row
            for mission, _carried in plan.missions:
                mission.letter = plan.row
            for indicator in plan.indicators:
                indicator.letter = plan.row
        LetterReferent.objects.bulk_create(
            [r for p in plans for r in p.referents], batch_size=BATCH
        )
        LetterMission.objects.bulk_create(
            [m for p in plans for m, _c in p.missions], batch_size=BATCH
        )
        LetterMission.referents.through.objects.bulk_create(
            [
                LetterMission.referents.through(lettermission=m, letterreferent=r)
                for p in plans
                for m, carried in p.missions
                for r in carried
            ],
            batch_size=BATCH,
        )
        LetterIndicator.objects.bulk_create(
            [i for p in plans for i in p.indicators], batch_size=BATCH
        )
        for plan in plans:
            plan.content = self._content(plan)
            plan.content_sha = sha256_hex(canonical_json(plan.content))
        for plan in plans:
            self._history(plan)
            plan.row.audit_head = plan.events[-1].hash
        LetterReferent.objects.bulk_update(
            [r for p in plans for r in p.referents if r.agreed_version],
            ["agreed_version", "agreed_at"],
            batch_size=BATCH,
        )
        MissionLetter.objects.bulk_update([p.row for p in plans], ["audit_head"], batch_size=BATCH)
        events = [e for p in plans for e in p.events]
        AuditEvent.objects.bulk_create(events, batch_size=BATCH)
        # Each letter's history carries one content (``_snapshot``): its one version.
        LetterVersion.objects.bulk_create(
            [
                LetterVersion(
                    letter=p.row,
                    number=p.row.version,
                    content=p.content,
                    content_sha256=p.content_sha,
                    created_at=p.events[0].created_at,
                    created_by=p.people["principal"],
                )
                for p in plans
            ],
            batch_size=BATCH,
        )
        opinions = [o for p in plans for o in p.opinions]
        AgendaItem.objects.bulk_create(
            [AgendaItem(meeting=o.meeting, letter=o.letter) for o in opinions], batch_size=BATCH
        )
        Opinion.objects.bulk_create(opinions, batch_size=BATCH)
        signatures = [s for p in plans for s in p.signatures]
        Signature.objects.bulk_create(signatures, batch_size=BATCH)
        self._reports(plans)
        comments = []
        for plan in plans:
            if len(plan.events) < 2:
                continue
            authors = [plan.people["principal"]] + [r.user for r in plan.referents]
            for _n in range(rng.randint(0, 3)):
                comments.append(
                    Comment(
                        letter=plan.row,
                        author=rng.choice(authors),
                        body="Pouvons-nous préciser le calendrier de cette mission ?",
                        version=1,
                    )
                )
        Comment.objects.bulk_create(comments, batch_size=BATCH)
        outbox = []
        for plan in plans:
            for event in plan.events:
                recipient = (
                    plan.referents[0].user
                    if event.actor_id == plan.people["principal"].pk
                    else plan.people["principal"]
                )
                outbox.append(
                    OutboxItem(
                        key=f"notify:event:{event.pk}:history:{recipient.pk}",
                        kind=OutboxKind.NOTIFICATION,
                        letter=plan.row,
                        event=event,
                        recipient=recipient,
                        topic="history",
                        status=OutboxStatus.DONE,
                        attempts=1,
                        done_at=event.created_at,
                    )
                )
        OutboxItem.objects.bulk_create(outbox, batch_size=BATCH)
        summary = self.summary
        summary.letters += len(plans)
        summary.events += len(events)
        summary.comments += len(comments)
        summary.opinions += len(opinions)
        summary.signatures += len(signatures)
        summary.outbox += len(outbox)
        summary.states.update(p.row.state for p in plans)

    def _reports(self, plans: list[_Letter]) -> None:
        with_report = [p for p in plans if p.report is not None]
        reports = YearEndReport.objects.bulk_create(
            [
                YearEndReport(
                    letter=p.row,
                    difficulties=p.report["difficulties"],
                    training_needs=p.report["training_needs"],
                    proposals=p.report["proposals"],
                    submitted_at=(
                        dt.datetime.fromisoformat(p.report["submitted_at"])
                        if p.report["submitted_at"]
                        else None
                    ),
                    submitted_by=p.referents[0].user if p.report["submitted_at"] else None,
                )
                for p in with_report
                if p.report is not None
            ],
            batch_size=BATCH,
        )
        MissionOutcome.objects.bulk_create(
            [
                MissionOutcome(report=report, mission=mission, status=outcome["status"])
                for report, plan in zip(reports, with_report, strict=True)
                for (mission, _c), outcome in zip(
                    plan.missions, plan.report["outcomes"] if plan.report else [], strict=True
                )
            ],
            batch_size=BATCH,
        )
        IndicatorResult.objects.bulk_create(
            [
                IndicatorResult(report=report, indicator=indicator, result=result["result"])
                for report, plan in zip(reports, with_report, strict=True)
                for indicator, result in zip(
                    plan.indicators, plan.report["results"] if plan.report else [], strict=True
                )
            ],
            batch_size=BATCH,
        )

    def _dates_from_history(self) -> None:
        """``auto_now`` stamped every row with today: give letters and comments the dates
        of their history instead, so that "recent first" orders mean something."""
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE workflow_missionletter SET
                    created_at = (SELECT MIN(e.created_at) FROM workflow_auditevent e
                                  WHERE e.letter_id = workflow_missionletter.id),
                    updated_at = (SELECT MAX(e.created_at) FROM workflow_auditevent e
                                  WHERE e.letter_id = workflow_missionletter.id)
                WHERE establishment_id IN (
                    SELECT est.id FROM governance_establishment est
                    JOIN governance_academy a ON a.id = est.academy_id
                    WHERE a.code LIKE %s)
                """,
                [f"{ACADEMY_PREFIX}%"],
            )
            cursor.execute(
                """
                UPDATE workflow_comment SET created_at = (
                    SELECT e.created_at FROM workflow_auditevent e
                    WHERE e.letter_id = workflow_comment.letter_id AND e.sequence = 2)
                WHERE letter_id IN (
                    SELECT l.id FROM workflow_missionletter l
                    JOIN governance_establishment est ON est.id = l.establishment_id
                    JOIN governance_academy a ON a.id = est.academy_id
                    WHERE a.code LIKE %s)
                """,
                [f"{ACADEMY_PREFIX}%"],
            )


def generate(
    establishments: int,
    years: int,
    *,
    seed: int = 8,
    today: dt.date | None = None,
    per_academy: int = ESTABLISHMENTS_PER_ACADEMY,
    second_letter_share: float = SECOND_LETTER_SHARE,
    log: Callable[[str], None] = lambda message: None,
) -> Summary:
    """Make the data set; ``BenchDataRefused`` when not allowed or already made.
    ``per_academy``: establishments per académie (700 makes the largest académie, whose
    dashboard the budget is measured on); ``second_letter_share``: the share of
    establishment-years with a second letter."""
    return Generator(
        establishments,
        years,
        seed=seed,
        today=today,
        per_academy=per_academy,
        second_letter_share=second_letter_share,
        log=log,
    ).run()
