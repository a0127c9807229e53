"""The national-scale benchmark (issue 8): one command, figures as JSON and Markdown.

    DATABASE_URL=postgres://…/ldm_bench .venv/bin/python bench/run.py --label before

- starts gunicorn (2 workers, ``bench.settings``) on loopback and drives it with a
  small asyncio httpx client: closed loop, ``--concurrency`` clients per scenario,
  ``--duration`` seconds each after a short warm-up, every scenario in turn for
  ``--rounds`` rounds; p50 / p95 / p99 latency and throughput, and each scenario's
  throughput as a share of the ceiling's (a DRF endpoint that returns a constant),
  measured for ``--ceiling-duration`` seconds just before and just after each
  scenario; the medians over the rounds;
- counts the SQL queries of one request of each scenario (Django's test client,
  in-process);
- times the reminder sweep over the whole data set (twice: the first run, then the
  daily steady state; both rolled back, so runs compare);
- the e-mail dispatch rate to a local SMTP sink (aiosmtpd's ``Sink``);
- the archive PDF render time (WeasyPrint, as the archive sweep calls it).

The data set comes from ``manage.py bench_data``; see bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from ctypes.util import find_library
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-never-in-production-0123456789")
os.environ.setdefault("OUTBOX_KICK_ENABLED", "false")

import logging  # noqa: E402

import django  # noqa: E402

django.setup()
logging.getLogger("httpx").setLevel(logging.WARNING)

import httpx  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from governance.models import Academy, Role, RoleAssignment, User  # noqa: E402
from governance.selectors import school_year_code_for  # noqa: E402
from notifications.models import Email, EmailStatus  # noqa: E402
from notifications.services import plan_reminders, send_pending_emails  # noqa: E402
from workflow.audit.pdf import render_event_pdf  # noqa: E402
from workflow.lifecycle.table import action_label  # noqa: E402
from workflow.models import AuditEvent, LetterState, MissionLetter  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


@contextlib.contextmanager
def counting_queries() -> Iterator[list[int]]:
    counter = [0]

    def wrapper(execute: Any, sql: Any, params: Any, many: Any, context: Any) -> Any:
        counter[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield counter


# The people and letters the scenarios use -------------------------------------------------


@dataclass
class Cast:
    dan_token: str
    dan_session: str
    principal_sessions: list[str]
    letter_ids: list[int]
    current_year: str
    # (letter id, principal's token, state) per letter a transition cycles on
    cycling: list[tuple[int, str, str]]
    commented: list[tuple[int, str]]
    counts: dict[str, int] = field(default_factory=dict)


def cast() -> Cast:
    academy = Academy.objects.filter(code__startswith="bench-").order_by("code").first()
    if academy is None:
        raise SystemExit("No bench data here: run `manage.py bench_data` first (bench/README.md).")
    dan = User.objects.get(username=f"dan-{academy.code}")
    principals = [
        a.user
        for a in RoleAssignment.objects.filter(
            role=Role.PRINCIPAL, establishment__academy=academy
        ).select_related("user")[:40]
    ]
    sessions = []
    for principal in principals:
        client = Client()  # one each: signing in again would end the previous session
        client.force_login(principal)
        sessions.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    letters = MissionLetter.objects.filter(establishment__academy=academy)
    current = school_year_code_for(timezone.localdate())
    dan_client = Client()
    dan_client.force_login(dan)

    def principal_token(letter: MissionLetter) -> str:
        head = RoleAssignment.objects.get(
            role=Role.PRINCIPAL, establishment_id=letter.establishment_id
        ).user
        return Token.objects.get_or_create(user=head)[0].key

    cycling = [
        (letter.pk, principal_token(letter), letter.state)
        for letter in letters.filter(
            state__in=[LetterState.DRAFT, LetterState.CONCERTATION], school_year__code=current
        ).order_by("pk")[:40]
    ]
    commented = [
        (letter.pk, principal_token(letter))
        for letter in letters.filter(state=LetterState.CONCERTATION).order_by("-pk")[:40]
    ]
    return Cast(
        dan_token=Token.objects.get_or_create(user=dan)[0].key,
        dan_session=dan_client.cookies[settings.SESSION_COOKIE_NAME].value,
        principal_sessions=sessions,
        letter_ids=list(letters.values_list("pk", flat=True)),
        current_year=current,
        cycling=cycling,
        commented=commented,
        counts={
            "letters": MissionLetter.objects.count(),
            "events": AuditEvent.objects.count(),
            "letters_in_academy": letters.count(),
            "establishments_in_academy": academy.establishments.count(),
        },
    )


# Scenarios: each gives, per call, one request to send -------------------------------------

Request = tuple[str, str, dict[str, str], dict[str, Any] | None]  # method, path, headers, json


def scenarios(c: Cast) -> dict[str, Callable[[int], Callable[[], Request]]]:
    """Per scenario, a factory: worker number → a function making that worker's next
    request. Writes give each worker its own letters, so they never contend."""
    rng = random.Random(8)
    dan = {"Authorization": f"Token {c.dan_token}"}
    filters = [
        f"?school_year={c.current_year}",
        f"?school_year={c.current_year}&state=in_force",
        f"?school_year={c.current_year}&state=concertation",
        "?state=closed",
    ]

    def ceiling(worker: int) -> Callable[[], Request]:
        return lambda: ("GET", "/bench/ceiling/", dan, None)

    def todo(worker: int) -> Callable[[], Request]:
        return lambda: (
            "GET",
            "/",
            {"Cookie": f"{settings.SESSION_COOKIE_NAME}={rng.choice(c.principal_sessions)}"},
            None,
        )

    def dan_list(worker: int) -> Callable[[], Request]:
        return lambda: ("GET", f"/api/v1/letters/{rng.choice(filters)}", dan, None)

    def detail(worker: int) -> Callable[[], Request]:
        return lambda: ("GET", f"/api/v1/letters/{rng.choice(c.letter_ids)}/", dan, None)

    def history(worker: int) -> Callable[[], Request]:
        return lambda: ("GET", f"/api/v1/letters/{rng.choice(c.letter_ids)}/history/", dan, None)

    def transition(worker: int) -> Callable[[], Request]:
        mine = [list(row) for row in c.cycling[worker::WORKERS_MAX]]
        turn = [0]

        def next_request() -> Request:
            row = mine[turn[0] % len(mine)]
            turn[0] += 1
            letter_id, token, state = row
            # Draft ⇄ concertation: a real transition each time, with its audit event,
            # its outbox rows and the guards (envelope, missions, period).
            if state == LetterState.DRAFT:
                name, body, row[2] = "open_concertation", {}, LetterState.CONCERTATION
            else:
                name, body = "return_to_draft", {"reason": "Relecture"}
                row[2] = LetterState.DRAFT
            return (
                "POST",
                f"/api/v1/letters/{letter_id}/transitions/{name}/",
                {"Authorization": f"Token {token}"},
                body,
            )

        return next_request

    dan_page = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={c.dan_session}"}

    def dashboard(worker: int) -> Callable[[], Request]:
        return lambda: ("GET", f"/tableau-de-bord/?annee={c.current_year}", dan_page, None)

    def dashboard_xlsx(worker: int) -> Callable[[], Request]:
        return lambda: (
            "GET",
            f"/tableau-de-bord/export.xlsx?annee={c.current_year}",
            dan_page,
            None,
        )

    def comment(worker: int) -> Callable[[], Request]:
        letter_id, token = c.commented[worker % len(c.commented)]
        return lambda: (
            "POST",
            f"/api/v1/letters/{letter_id}/comments/",
            {"Authorization": f"Token {token}"},
            {"body": "Pouvons-nous revoir le calendrier ?"},
        )

    return {
        "ceiling": ceiling,
        "todo": todo,
        "dan_list": dan_list,
        "detail": detail,
        "history": history,
        "transition": transition,
        "comment": comment,
        "dashboard": dashboard,
        "dashboard_xlsx": dashboard_xlsx,
    }


WORKERS_MAX = 8


async def drive(base: str, makers: list[Callable[[], Request]], seconds: float) -> dict[str, Any]:
    """One client per maker (each makes its next request), in a closed loop."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    warmup_ends = time.perf_counter() + 1.5
    ends = warmup_ends + seconds

    async def worker(number: int) -> None:
        make = makers[number]
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            while (now := time.perf_counter()) < ends:
                method, path, headers, body = make()
                started = time.perf_counter()
                response = await client.request(method, path, headers=headers, json=body)
                elapsed = time.perf_counter() - started
                if response.status_code >= 400:
                    key = f"{response.status_code} {response.text[:80]}"
                    errors[key] = errors.get(key, 0) + 1
                elif now >= warmup_ends:
                    latencies.append(elapsed)

    await asyncio.gather(*(worker(n) for n in range(len(makers))))
    return {
        "requests": len(latencies),
        "throughput_rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "errors": errors,
    }


@contextlib.contextmanager
def gunicorn(port: int) -> Iterator[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "config.wsgi",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _attempt in range(100):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=1).status_code < 600:
                    break
            time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def send_in_process(client: Client, request: Request) -> Any:
    """One of a scenario's requests through Django's test client (no HTTP), with its
    token or session cookie; the response."""
    method, path, headers, body = request
    kwargs: dict[str, Any] = {"HTTP_HOST": "127.0.0.1"}
    if "Authorization" in headers:
        kwargs["HTTP_AUTHORIZATION"] = headers["Authorization"]
    if "Cookie" in headers:
        client.cookies[settings.SESSION_COOKIE_NAME] = headers["Cookie"].split("=", 1)[1]
    if method == "GET":
        return client.get(path, **kwargs)
    return client.post(path, data=json.dumps(body), content_type="application/json", **kwargs)


def query_counts(c: Cast, names: list[str]) -> dict[str, int]:
    """SQL queries of one request of each scenario (in-process, same settings)."""
    made = scenarios(c)
    counts = {}
    for name in names:
        request = made[name](0)()
        with counting_queries() as counter:
            response = send_in_process(Client(), request)
        assert response.status_code in (200, 201), (name, response.status_code, response.content)
        counts[name] = counter[0]
    return counts


def bracketed_round(
    run: Callable[[str], dict[str, Any]],
    run_ceiling: Callable[[], dict[str, Any]],
    names: list[str],
    show: Callable[[str, dict[str, Any]], None],
) -> dict[str, Any]:
    """One round: the ceiling, then each scenario followed by the ceiling again, so that
    every scenario sits between two measures of the ceiling; its share is of their mean.

    A round of seven scenarios measured against one ceiling taken at its start lasted a
    minute and a half, and the machine's speed moved by a quarter within it: a
    scenario's share then said as much about when it ran as about its code
    (bench/RESULTS.md, stops 9 to 11). The round's ``ceiling`` row is the median of its
    measures."""

    def with_load(row: dict[str, Any]) -> dict[str, Any]:
        return {**row, "load_average": round(os.getloadavg()[0], 2)}

    ceilings = [with_load(run_ceiling())]
    show("ceiling", ceilings[-1])
    measured: dict[str, Any] = {}
    for name in names:
        row = with_load(run(name))
        ceilings.append(with_load(run_ceiling()))
        around = (ceilings[-2]["throughput_rps"] + ceilings[-1]["throughput_rps"]) / 2
        row["ceiling_rps"] = round(around, 1)
        row["share_of_ceiling"] = round(row["throughput_rps"] / around, 3) if around else None
        measured[name] = row
        show(name, row)
        show("ceiling", ceilings[-1])
    middle = sorted(ceilings, key=lambda row: row["throughput_rps"])[len(ceilings) // 2]
    ceiling = {**middle, "measures": [row["throughput_rps"] for row in ceilings]}
    ceiling["share_of_ceiling"] = 1.0
    return {"ceiling": ceiling, **measured}


def median_of(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A scenario over several rounds: the median of each figure (each round's share of
    the ceiling is taken against the ceiling measured just before and just after it, so
    a machine that slows down between rounds, or within one, does not bias it)."""
    result: dict[str, Any] = {}
    for key, value in rows[0].items():
        if isinstance(value, int | float):
            result[key] = round(statistics.median(row[key] for row in rows), 3)
    errors: dict[str, int] = {}
    for row in rows:
        for error, count in row.get("errors", {}).items():
            errors[error] = errors.get(error, 0) + count
    result["errors"] = errors
    result["rounds"] = len(rows)
    return result


# Background work ----------------------------------------------------------------------------


def sweep() -> dict[str, Any]:
    """``plan_reminders`` over the whole data set, the first time (every late letter
    gets its reminder) and the next (nothing new: the daily steady state). Rolled back."""
    results: dict[str, Any] = {}
    with transaction.atomic():
        for run in ("first", "again"):
            with counting_queries() as counter:
                started = time.perf_counter()
                outcome = plan_reminders()
                elapsed = time.perf_counter() - started
            results[run] = {
                "seconds": round(elapsed, 2),
                "queries": counter[0],
                "reminders": outcome.reminders,
            }
        transaction.set_rollback(True)
    return results


def mail(count: int) -> dict[str, Any]:
    """Send ``count`` due e-mails to aiosmtpd's Sink on loopback, as the sweep does."""
    port = free_port()
    sink = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("aiosmtpd")),
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ]
    )
    try:
        for _attempt in range(50):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            time.sleep(0.1)
        recipients = list(User.objects.filter(username__startswith="teacher1-")[:count])
        now = timezone.now()
        prefix = f"bench-mail:{now.timestamp()}"
        Email.objects.bulk_create(
            Email(
                key=f"{prefix}:{n}",
                recipient=recipients[n % len(recipients)],
                to_address=recipients[n % len(recipients)].email,
                subject="Lettre de mission : concertation ouverte",
                body_text="Bonjour,\n\nLa concertation est ouverte.\n" * 10,
                body_html="<p>Bonjour,</p><p>La concertation est ouverte.</p>" * 10,
                topic="bench",
                status=EmailStatus.PENDING,
                next_attempt_at=now,
            )
            for n in range(count)
        )
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
        ):
            started = time.perf_counter()
            sent = 0
            with counting_queries() as counter:
                while batch := send_pending_emails(limit=100):
                    sent += batch
            elapsed = time.perf_counter() - started
        Email.objects.filter(key__startswith=prefix).delete()
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    return {
        "sent": sent,
        "seconds": round(elapsed, 2),
        "mails_per_second": round(sent / elapsed, 1),
        "queries_per_mail": round(counter[0] / max(sent, 1), 2),
    }


def pdf(count: int) -> dict[str, Any]:
    """Render the archive PDF of ``count`` events (the latest of closed letters: the
    fullest snapshots), as ``notifications.services._archive_of`` does."""
    events = list(
        AuditEvent.objects.filter(action="acknowledge_report").order_by("-pk")[: count + 1]
    )
    times = []
    for index, event in enumerate(events):
        started = time.perf_counter()
        render_event_pdf(event, action_label=action_label(event.action))
        if index:  # the first loads fonts and templates
            times.append(time.perf_counter() - started)
    return {
        "renders": len(times),
        "p50_ms": round(statistics.median(times) * 1000, 1),
        "p95_ms": round(percentile(times, 0.95) * 1000, 1),
    }


# The run ------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    shared_buffers = None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT version()")
            database = cursor.fetchone()[0].split(" on ")[0]
            cursor.execute("SHOW shared_buffers")
            shared_buffers = cursor.fetchone()[0]
        else:  # SQLite, the embedded default
            cursor.execute("SELECT sqlite_version()")
            database = f"SQLite {cursor.fetchone()[0]}"
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "database": database,
        # What the figures depend on beyond the code: the database's cache, whether
        # connections persist and statements are prepared (after how many runs), and
        # whether WeasyPrint subsets fonts with HarfBuzz.
        "shared_buffers": shared_buffers,
        "conn_max_age": settings.DATABASES["default"]["CONN_MAX_AGE"],
        "prepared_statements": settings.DATABASES["default"]
        .get("OPTIONS", {})
        .get("prepare_threshold"),
        "harfbuzz_subset": find_library("harfbuzz-subset") is not None,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


HTTP_SCENARIOS = ["ceiling", "todo", "dan_list", "detail", "history", "transition", "comment"]
# The DAN's dashboard of her académie and its XLSX export (issue 31): measured on the
# largest académie (bench/README.md), with ``--scenarios dashboard dashboard_xlsx``.
DASHBOARD_SCENARIOS = ["dashboard", "dashboard_xlsx"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--label", default="run")
    parser.add_argument("--duration", type=float, default=15, help="seconds per scenario")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of every HTTP scenario (medians)"
    )
    parser.add_argument(
        "--ceiling-duration",
        type=float,
        default=5,
        help="seconds of each measure of the ceiling, taken before and after every scenario",
    )
    parser.add_argument("--only", nargs="*", default=None, help="http sweep mail pdf")
    parser.add_argument("--scenarios", nargs="*", default=HTTP_SCENARIOS)
    parser.add_argument("--mails", type=int, default=3000)
    parser.add_argument("--pdfs", type=int, default=30)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    parts = args.only or ["http", "sweep", "mail", "pdf"]
    assert args.concurrency <= WORKERS_MAX

    report: dict[str, Any] = {"label": args.label, "machine": machine()}
    # DEBUG is off, as in production: static files are served hashed, from STATIC_ROOT.
    call_command("collectstatic", "--noinput", verbosity=0)
    c = cast()
    report["data"] = c.counts
    print(json.dumps(report, indent=2), flush=True)
    if "http" in parts:
        report["queries_per_request"] = query_counts(
            c, [s for s in args.scenarios if s != "ceiling"]
        )
        c = cast()  # the transition counted above moved one letter on: read states again
        connections.close_all()
        made = scenarios(c)
        # Each client's request maker lives across the rounds: the transitions go on
        # from the state the previous round left their letters in.
        makers = {name: [made[name](w) for w in range(args.concurrency)] for name in made}
        rounds: list[dict[str, Any]] = []
        with gunicorn(free_port()) as base:

            def run(name: str) -> dict[str, Any]:
                return asyncio.run(drive(base, makers[name], args.duration))

            def run_ceiling() -> dict[str, Any]:
                return asyncio.run(drive(base, makers["ceiling"], args.ceiling_duration))

            for number in range(1, args.rounds + 1):

                def show(name: str, row: dict[str, Any], n: int = number) -> None:
                    print(f"round {n}", name, json.dumps(row), flush=True)

                names = [name for name in args.scenarios if name != "ceiling"]
                rounds.append(bracketed_round(run, run_ceiling, names, show))
        report["http"] = {name: median_of([r[name] for r in rounds]) for name in rounds[0]}
        report["http_rounds"] = rounds
    if "sweep" in parts:
        report["sweep"] = sweep()
        print("sweep", json.dumps(report["sweep"]), flush=True)
    if "mail" in parts:
        report["mail"] = mail(args.mails)
        print("mail", json.dumps(report["mail"]), flush=True)
    if "pdf" in parts:
        report["pdf"] = pdf(args.pdfs)
        print("pdf", json.dumps(report["pdf"]), flush=True)
    report["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(report, indent=2, ensure_ascii=False)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(markdown(report))


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"### {report['label']} — {report['data']['letters']} letters, "
        f"{report['data']['events']} events — {report['machine']['date']}",
        "",
        "| scenario | queries | p50 ms | p95 ms | p99 ms | req/s | share of ceiling | load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    queries = report.get("queries_per_request", {})
    for name, row in report.get("http", {}).items():
        lines.append(
            f"| {name} | {queries.get(name, '—')} | {row['p50_ms']} | {row['p95_ms']} | "
            f"{row['p99_ms']} | {row['throughput_rps']} | {row.get('share_of_ceiling', '—')} | "
            f"{row['load_average']} |"
        )
    if "sweep" in report:
        first, again = report["sweep"]["first"], report["sweep"]["again"]
        lines.append(
            f"\nSweep: first {first['seconds']} s, {first['queries']} queries, "
            f"{first['reminders']} reminders; again {again['seconds']} s, "
            f"{again['queries']} queries."
        )
    if "mail" in report:
        lines.append(
            f"Mail: {report['mail']['mails_per_second']} mails/s "
            f"({report['mail']['sent']} in {report['mail']['seconds']} s, "
            f"{report['mail']['queries_per_mail']} queries each)."
        )
    if "pdf" in report:
        lines.append(f"PDF: p50 {report['pdf']['p50_ms']} ms, p95 {report['pdf']['p95_ms']} ms.")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
