"""What a page showed, so that a save sends only what its person changed.

A form holds, beside each field, the fingerprint of the value it was shown with. On
save, a field whose posted value still has that fingerprint was not touched: the page
leaves it out, so that it can neither overwrite another person's save made meanwhile
nor be refused as stale. When a save is refused, a field whose stored value no longer
has the shown fingerprint is one that another person changed: the page shows it beside
what was typed.
"""

from __future__ import annotations

import hashlib

from django.http import QueryDict


def fingerprint(*values: object) -> str:
    """A short digest of the values shown (a status and its comment, say)."""
    text = "\x1f".join("" if value is None else str(value) for value in values)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def shown_field(name: str) -> str:
    """The name of the hidden field holding the fingerprint shown for ``name``."""
    return f"shown-{name}"


def touched(post: QueryDict, name: str, *posted: object) -> bool:
    """Whether the person changed the entry ``name`` (its posted values differ from the
    ones it was shown with). A form without the fingerprint counts as changed."""
    return post.get(shown_field(name)) != fingerprint(*posted)
