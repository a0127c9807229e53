"""The API's JSON parser: DRF's, with limits on what a hostile body may do.

DRF's parser hands the body to ``json.load``, which recurses once per nesting level: a
body 10 000 levels deep ran out of stack (``RecursionError``, a 500). This one answers
400 ``parse_error`` with an explanation in French for

- a nesting deeper than ``MAX_DEPTH`` (checked before parsing, without recursion);
- a body that is not UTF-8;
- anything ``json`` refuses: invalid JSON, ``NaN`` and ``Infinity``, an integer of more
  than 4 300 digits (Python's limit on converting digits to an integer);
- a string holding NUL (``\\u0000``, which PostgreSQL cannot store) or half a surrogate
  pair (``\\ud800``, which is no UTF-8 and no database takes).

The body's size is bounded before this: ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# A letter, the deepest body the API reads, nests five levels ({"missions": [{"referents":
# [...]}]}); the margin is for clients that wrap their payloads.
MAX_DEPTH = 32

# A JSON string, escapes included (the "unrolled loop": linear, never backtracks).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")


def nesting_depth_exceeds(text: str, limit: int) -> bool:
    """Whether the arrays and objects of ``text`` nest deeper than ``limit``, read
    without recursion and without parsing (brackets inside strings do not count)."""
    brackets = _NOT_A_BRACKET.sub("", _STRING.sub("", text))
    depth = 0
    for bracket in brackets:
        if bracket in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class _Constant(ValueError):
    """``NaN``, ``Infinity`` or ``-Infinity``: refused, as DRF's strict mode does."""


def _refuse_constant(name: str) -> Any:
    raise _Constant(name)


def _unstorable_string(data: Any) -> bool:
    """Whether a string of ``data`` (a key or a value) holds NUL, which PostgreSQL does
    not store, or a lone surrogate, which is no UTF-8: only ``\\u`` escapes write them."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return True
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


class JSONParser(parsers.JSONParser):
    """DRF's ``JSONParser`` (so DRF still reads the body through ``request.body``,
    where ``DATA_UPLOAD_MAX_MEMORY_SIZE`` holds), with the limits above."""

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        try:
            # A text encoding only: "bz2_codec" and the like would decompress the body
            # past DATA_UPLOAD_MAX_MEMORY_SIZE (str.encode refuses them).
            "".encode(encoding)
        except (LookupError, UnicodeError) as exc:
            raise ParseError(
                _(
                    "Le jeu de caractères indiqué dans l'en-tête Content-Type "
                    "n'est pas pris en charge."
                )
            ) from exc
        raw = stream.read()
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(
                _("Le corps de la requête n'est pas un texte %(encoding)s valide.")
                % {"encoding": encoding.upper()}
            ) from exc
        if nesting_depth_exceeds(text, MAX_DEPTH):
            raise ParseError(
                _("Le JSON imbrique plus de %(limit)s niveaux de tableaux et d'objets.")
                % {"limit": MAX_DEPTH}
            )
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except json.JSONDecodeError as exc:
            raise ParseError(
                _(
                    "Le corps de la requête n'est pas un JSON valide "
                    "(ligne %(line)s, colonne %(column)s)."
                )
                % {"line": exc.lineno, "column": exc.colno}
            ) from exc
        except _Constant as exc:
            raise ParseError(
                _("Le JSON contient %(constant)s, qui n'est pas un nombre admis.")
                % {"constant": exc.args[0]}
            ) from exc
        except (ValueError, RecursionError) as exc:
            # An integer beyond Python's 4 300 digits is a ValueError too.
            raise ParseError(
                _("Le corps de la requête n'est pas un JSON valide : un nombre a trop de chiffres.")
            ) from exc
        if "\\u" in text and _unstorable_string(data):
            raise ParseError(
                _(
                    "Le JSON contient un caractère nul ou une moitié de paire de "
                    "substitution UTF-16 : ce texte ne peut pas être enregistré."
                )
            )
        return data
