"""System checks: say plainly what the machine lacks, rather than fail later."""

from __future__ import annotations

from ctypes.util import find_library
from typing import Any

from django.core.checks import CheckMessage, Warning, register

from workflow.audit.pdf import HARFBUZZ_SUBSET_HINT, PANGO_HINT


@register()
def pdf_libraries(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """PDFs (archives, signed letters) need Pango. Without it everything else works,
    and archives wait, retried by the sweep, until the library is installed."""
    try:
        import weasyprint  # noqa: F401
    except OSError as exc:
        return [
            Warning(
                "Les PDF ne peuvent pas être produits : WeasyPrint ne trouve pas Pango.",
                hint=f"{PANGO_HINT} ({exc})",
                id="workflow.W001",
            )
        ]
    if find_library("harfbuzz-subset") is None:
        # WeasyPrint then subsets the fonts with fontTools, in Python: every archive
        # PDF takes about four times as long.
        return [
            Warning(
                "Les PDF sont lents à produire : la bibliothèque HarfBuzz-Subset manque.",
                hint=HARFBUZZ_SUBSET_HINT,
                id="workflow.W002",
            )
        ]
    return []
