"""One scenario of ``bench/run.py``, in-process: its requests through Django's test
client, without HTTP, gunicorn or the load generator.

Run against a database filled by ``manage.py bench_data``, from the checkout to
measure (Celery's Django fix-up puts the working directory first on ``sys.path``)::

    python bench/inprocess.py dan_list --requests 200

It sends 30 requests to warm the caches and the connection, then ``--requests`` more,
and prints their median. The same requests as the runner's (its request makers, with
their fixed random draw), so that two checkouts send the same ones. On a machine whose
speed drifts, count instructions instead of seconds: run it under
``valgrind --tool=cachegrind --cache-sim=no`` with 5 and with 65 requests; the
difference of the two totals over 60 is one request's, without the start-up
(bench/RESULTS.md, stop 12). PostgreSQL's own work is not in that count.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.test import Client

# Importing the runner sets Django up with bench.settings, as the runner does.
from bench.run import HTTP_SCENARIOS, cast, scenarios, send_in_process

WARM_UP = 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=HTTP_SCENARIOS)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    make = scenarios(cast())[args.scenario](0)
    client = Client()

    def send() -> None:
        request = make()
        response = send_in_process(client, request)
        if response.status_code not in (200, 201):
            raise SystemExit(f"{request[0]} {request[1]}: HTTP {response.status_code}")

    for _ in range(WARM_UP):
        send()
    timings = []
    for _ in range(args.requests):
        started = time.perf_counter()
        send()
        timings.append(time.perf_counter() - started)
    print(f"{args.scenario}: median {statistics.median(timings) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
