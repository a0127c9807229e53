"""Text folded for comparison: what the directory and calendar imports match names on,
and what the dashboard's search compares an establishment's name with."""

from __future__ import annotations

import re
import unicodedata


def normalized(text: str) -> str:
    """Lower case, without accents, words joined by hyphens: « Côte-d'Or » → cote-d-or."""
    bare = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", bare.lower()).strip("-")
