"""Refused input as a person reads it: each field named by its French label, the one
of the transition's payload form (``workflow.lifecycle.payloads``), never by its code;
a letter of a meeting's agenda by its establishment and school year, never by its id.

The services' ``InvalidInput`` keeps the codes (the API answers them, DESIGN §7); only
the pages' messages are put into words here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.translation import gettext as _

from workflow.errors import InvalidInput

# How ``record_meeting_opinions`` keys a letter's errors, and prefixes a field's message.
_AGENDA_LETTER = re.compile(r"^letter (\d+)$")
_FIELD_SEPARATOR = " : "


def field_label(payload: type[forms.Form], code: str) -> str | None:
    """The French label of the payload form's field ``code``; None for the errors of
    the whole form (``__all__``) and for what is not one of its fields."""
    field = payload.base_fields.get(code)
    if field is None or not field.label:
        return None
    return str(field.label)


def _labelled(payload: type[forms.Form], code: str, message: str) -> str:
    label = field_label(payload, code)
    if label is None:
        return message
    return _("%(field)s : %(errors)s") % {"field": label, "errors": message}


def labelled_errors(exc: InvalidInput, payload: type[forms.Form]) -> list[str]:
    """Each error of ``exc``, « Label : message » when it is a field's."""
    return [
        _labelled(payload, code, message)
        for code, messages in exc.errors.items()
        for message in messages
    ]


def agenda_errors(
    exc: InvalidInput, payload: type[forms.Form], letters: Mapping[int, str]
) -> list[str]:
    """The errors of a meeting's agenda (``record_meeting_opinions``: keyed by letter,
    a field's message prefixed with its code), each letter named as in ``letters``
    (id → « Lycée Carnot — 2026-2027 ») and each field by its label."""
    lines = []
    for key, messages in exc.errors.items():
        match = _AGENDA_LETTER.match(key)
        if match is None:  # about the meeting, not one letter
            lines += [_labelled(payload, key, message) for message in messages]
            continue
        letter_id = int(match[1])
        letter = letters.get(letter_id) or _("Lettre n° %(id)s") % {"id": letter_id}
        for message in messages:
            code, separator, text = message.partition(_FIELD_SEPARATOR)
            of_a_field = bool(separator) and (
                code in payload.base_fields or code == NON_FIELD_ERRORS
            )
            label = field_label(payload, code) if of_a_field else None
            if label is not None:
                lines.append(
                    _("%(letter)s (%(field)s) : %(errors)s")
                    % {"letter": letter, "field": label, "errors": text}
                )
            else:
                lines.append(
                    _("%(letter)s : %(errors)s")
                    % {"letter": letter, "errors": text if of_a_field else message}
                )
    return lines
