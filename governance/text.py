"""Text folded for comparison: what the directory import matches names on and what the
establishments' search reads (``Establishment.search_name``)."""

from __future__ import annotations

import re
import unicodedata


def normalized(text: str) -> str:
    """Lower case, without accents, words joined by hyphens: « Côte-d'Or » → cote-d-or."""
    bare = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", bare.lower()).strip("-")
