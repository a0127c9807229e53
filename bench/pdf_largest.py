"""The PDF of the largest letter the service accepts, against its budget (p50 ≤ 300 ms).

Run against a database with letters (the demo's or ``manage.py bench_data``)::

    DJANGO_SETTINGS_MODULE=config.settings .venv/bin/python -m bench.pdf_largest

It takes a letter's snapshot as the PDF reads it, once as it is and once filled to
every bound of ``workflow.services.content`` (référents, missions, indicators, each
wording at its longest), and renders each 15 times. Nothing is written.
"""

from __future__ import annotations

import copy
import statistics
import time
from typing import Any

import django

django.setup()

from workflow.audit.pdf import render_letter_pdf  # noqa: E402
from workflow.audit.snapshot import full_snapshot  # noqa: E402
from workflow.models import MissionLetter  # noqa: E402
from workflow.services.content import (  # noqa: E402
    MAX_INDICATORS,
    MAX_MISSIONS,
    MAX_REFERENTS,
    MAX_SHARE,
    MAX_TARGET,
    MAX_TEXT,
)

RUNS = 15
WORDS = "Accompagner les équipes dans les usages pédagogiques du numérique, "


def _wording(length: int = MAX_TEXT) -> str:
    return (WORDS * (length // len(WORDS) + 1))[:length]


def largest(snapshot: dict[str, Any]) -> dict[str, Any]:
    """``snapshot`` with every list at its bound and every wording at its longest."""
    filled = copy.deepcopy(snapshot)
    content = filled["content"]
    referents = content["referents"] or [{"username": "x", "name": "X"}]
    content["referents"] = [
        {
            **referents[i % len(referents)],
            "name": f"Référent numéro {i + 1}",
            "share": _wording(MAX_SHARE),
        }
        for i in range(MAX_REFERENTS)
    ]
    mission = {**(content["missions"] or [{}])[0], "text": _wording()}
    mission.setdefault("priority", "secondary")
    content["missions"] = [mission] * MAX_MISSIONS
    content["indicators"] = [{"text": _wording(), "target": _wording(MAX_TARGET)}] * MAX_INDICATORS
    return filled


def _timings(snapshot: dict[str, Any]) -> tuple[float, float]:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        render_letter_pdf(snapshot)
        times.append(time.perf_counter() - start)
    times = sorted(times[1:])  # the first one warms the fonts
    return statistics.median(times) * 1000, times[int(len(times) * 0.95) - 1] * 1000


def main() -> None:
    letter = MissionLetter.objects.order_by("pk").first()
    if letter is None:
        raise SystemExit("No letter here: load the demo or run bench_data first.")
    snapshot = full_snapshot(letter)
    for name, shown in (("as it is", snapshot), ("largest accepted", largest(snapshot))):
        p50, p95 = _timings(shown)
        print(f"{name:>17}: p50 {p50:6.0f} ms, p95 {p95:6.0f} ms")


if __name__ == "__main__":
    main()
