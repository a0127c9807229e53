"""`bench_data` (issue 8): a small data set is valid for the application — every state,
consistent rows, audit chains that verify — and the command refuses to run where it is
not allowed, or a second time."""

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count

from bench.data import BENCH_PASSWORD, PATH
from governance.models import Establishment, Role, RoleAssignment, User
from workflow.audit.chain import verify_chains
from workflow.audit.snapshot import content_sha256
from workflow.audit.versions import current_version
from workflow.models import (
    AuditEvent,
    LetterState,
    MissionLetter,
    OutboxItem,
    OutboxStatus,
    Signature,
    YearEndReport,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def generated(settings):
    settings.ALLOW_BENCH_DATA = True
    out = StringIO()
    call_command("bench_data", "--establishments", "5", "--years", "2", stdout=out)
    return out.getvalue()


def test_refused_unless_allowed(settings):
    settings.ALLOW_BENCH_DATA = False
    with pytest.raises(CommandError, match="ALLOW_BENCH_DATA"):
        call_command("bench_data", "--establishments", "1", "--years", "1")
    assert not Establishment.objects.exists()


def test_second_run_is_refused_and_changes_nothing(generated):
    letters, events = MissionLetter.objects.count(), AuditEvent.objects.count()
    with pytest.raises(CommandError, match="déjà"):
        call_command("bench_data", "--establishments", "5", "--years", "2")
    assert (MissionLetter.objects.count(), AuditEvent.objects.count()) == (letters, events)


def test_every_state_and_the_counts_reported(generated):
    states = Counter(MissionLetter.objects.values_list("state", flat=True))
    assert set(states) == set(LetterState.values)
    # Each establishment-year has one or two letters.
    assert 10 <= sum(states.values()) <= 20
    for state, count in states.items():
        assert f"{state} {count}" in generated
    assert Establishment.objects.count() == 5
    # One person per staff role in each school, one DAN for the académie.
    assert RoleAssignment.objects.filter(role=Role.PRINCIPAL).count() == 5
    assert RoleAssignment.objects.filter(role=Role.DAN).count() == 1
    principal = User.objects.filter(username__startswith="principal-").first()
    assert principal is not None
    assert principal.check_password(BENCH_PASSWORD)


def test_audit_chains_verify_and_end_in_the_letters_state(generated):
    assert verify_chains() == []
    for letter in MissionLetter.objects.all():
        events = list(letter.events.order_by("sequence"))
        assert events[0].action == "create"
        assert events[-1].hash == letter.audit_head
        assert events[-1].to_state == letter.state
        assert letter.created_at == events[0].created_at
        assert letter.updated_at == events[-1].created_at
        # The snapshot's content is the letter's content, as the services would hash it.
        assert events[-1].snapshot["content_sha256"] == content_sha256(letter)
        # Its version is stored as the services would store it.
        assert current_version(letter).content_sha256 == content_sha256(letter)


def test_rows_match_each_letters_state(generated):
    for letter in MissionLetter.objects.annotate(n=Count("referents")).select_related(
        "establishment"
    ):
        assert letter.academy_id == letter.establishment.academy_id  # bulk: no save()
        assert letter.n >= 1
        assert letter.missions.exists()
        reached = (
            PATH.index(LetterState(letter.state)) if letter.state != LetterState.WITHDRAWN else -1
        )
        signatures = Signature.objects.filter(letter=letter)
        if reached >= PATH.index(LetterState.IN_FORCE):
            assert signatures.count() == letter.n + 1
            assert all(s.snapshot_sha256 == content_sha256(letter) for s in signatures)
            assert letter.opinions.count() == 2
            assert letter.agenda_items.count() == 2
        if reached >= PATH.index(LetterState.REPORT_DUE):
            report = YearEndReport.objects.get(letter=letter)
            assert report.outcomes.count() == letter.missions.count()
            assert (report.submitted_at is not None) == (
                reached > PATH.index(LetterState.REPORT_DUE)
            )
        if 0 <= reached < PATH.index(LetterState.REPORT_DUE):
            assert not YearEndReport.objects.filter(letter=letter).exists()
        if letter.state == LetterState.DRAFT:
            assert not signatures.exists()
            assert letter.events.count() == 1
    # The outbox history: one processed request per event, nothing left pending.
    assert OutboxItem.objects.count() == AuditEvent.objects.count()
    assert not OutboxItem.objects.exclude(status=OutboxStatus.DONE).exists()


def test_one_large_academie_and_the_share_of_second_letters(settings):
    """The dashboard's data set (bench/README.md): every establishment in one académie,
    and as many second letters as asked."""
    settings.ALLOW_BENCH_DATA = True
    call_command(
        "bench_data",
        "--establishments",
        "4",
        "--per-academy",
        "4",
        "--years",
        "1",
        "--second-letter-share",
        "1",
        stdout=StringIO(),
    )
    assert Establishment.objects.values("academy").distinct().count() == 1
    assert MissionLetter.objects.count() == 8


def test_the_dashboard_options_are_checked(settings):
    settings.ALLOW_BENCH_DATA = True
    with pytest.raises(CommandError, match="--second-letter-share"):
        call_command("bench_data", "--establishments", "1", "--second-letter-share", "2")
    assert not Establishment.objects.exists()
