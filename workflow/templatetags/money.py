"""Amounts the French way in templates: ``{{ amount|euros }}`` → « 2 500,00 € »."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

from governance.imp import format_euros

register = template.Library()


@register.filter
def euros(amount: Decimal | int | str | None) -> str:
    """``format_euros`` of the amount; nothing for no amount. A text that is no number
    (a value typed in a form, shown back) is shown as it is: a page never fails on it."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount).replace(",", "."))
    except (InvalidOperation, ValueError):
        return str(amount)
    return format_euros(value) if value.is_finite() else str(amount)
