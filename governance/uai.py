"""The UAI (Unité administrative immatriculée, formerly RNE) of an establishment.

Eight characters: seven digits, then a check letter. The letter is the seven-digit
number modulo 23, used as an index into an alphabet without I, O and Q. See
DESIGN §5 and shared/notes/domain.md §2.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

CHECK_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
UAI_PATTERN = re.compile(r"^[0-9]{7}[A-Z]$")


def uai_check_letter(digits: str) -> str:
    """The check letter for the seven leading digits of a UAI."""
    return CHECK_LETTERS[int(digits) % len(CHECK_LETTERS)]


def validate_uai(value: str) -> None:
    """Refuse anything that is not a well-formed UAI with the right check letter."""
    if not isinstance(value, str) or not UAI_PATTERN.match(value):
        raise ValidationError(
            _(
                "« %(value)s » n'est pas un code UAI : il faut 7 chiffres suivis d'une "
                "lettre majuscule, par exemple 0210015C."
            ),
            code="uai_format",
            params={"value": value},
        )
    expected = uai_check_letter(value[:7])
    if value[7] != expected:
        raise ValidationError(
            _(
                "Le code UAI « %(value)s » est invalide : sa lettre de contrôle devrait "
                "être « %(expected)s » (%(digits)s%(expected)s)."
            ),
            code="uai_check_letter",
            params={"value": value, "expected": expected, "digits": value[:7]},
        )
