"""Where a page's time goes, in-process: each SQL query of the DAN's list, timed.

Run against a database filled by ``manage.py bench_data`` (bench/README.md)::

    DJANGO_SETTINGS_MODULE=bench.settings python bench/queries.py --requests 60

For each of the runner's four filters it sends ``--requests`` requests through
Django's test client as the académie's DAN and prints the median of the whole request,
of the time spent inside ``cursor.execute`` and of each query. No HTTP, no gunicorn:
it sets the database's share apart from the rest, which ``bench/run.py`` cannot.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from governance.models import Academy, User  # noqa: E402
from governance.selectors import school_year_code_for  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description="Time each SQL query of the DAN's list.")
    parser.add_argument("--requests", type=int, default=60, help="requests per filter")
    args = parser.parse_args()

    academy = Academy.objects.filter(code__startswith="bench-").order_by("code").first()
    if academy is None:
        raise SystemExit("No bench data here: run `manage.py bench_data` first (bench/README.md).")
    dan = User.objects.get(username=f"dan-{academy.code}")
    token = Token.objects.get_or_create(user=dan)[0].key
    year = school_year_code_for(timezone.localdate())
    filters = [  # those of bench/run.py's dan_list
        f"?school_year={year}",
        f"?school_year={year}&state=in_force",
        f"?school_year={year}&state=concertation",
        "?state=closed",
    ]
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token}")
    timed: list[tuple[float, str]] = []

    def timing(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timed.append((time.perf_counter() - start, sql))

    for query_string in filters:
        path = f"/api/v1/letters/{query_string}"
        client.get(path)  # warm: connection, prepared statements
        totals: list[float] = []
        per_query: dict[int, list[float]] = {}
        first: list[str] = []
        with connection.execute_wrapper(timing):
            for _ in range(args.requests):
                timed.clear()
                start = time.perf_counter()
                response = client.get(path)
                totals.append(time.perf_counter() - start)
                if response.status_code != 200:
                    raise SystemExit(f"{path}: HTTP {response.status_code}")
                for number, (seconds, _sql) in enumerate(timed):
                    per_query.setdefault(number, []).append(seconds)
                first = first or [sql for _seconds, sql in timed]
        body = response.json()
        sql_total = sum(statistics.median(v) for v in per_query.values())
        print(
            f"{path}: {len(body['results'])} letters of {body['count']}, "
            f"request {statistics.median(totals) * 1000:.1f} ms, "
            f"SQL {sql_total * 1000:.1f} ms in {len(per_query)} queries"
        )
        for number, durations in per_query.items():
            print(f"  {statistics.median(durations) * 1000:6.2f} ms  {first[number][:100]}")


if __name__ == "__main__":
    main()
