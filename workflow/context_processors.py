"""What the layout needs on every page."""

from __future__ import annotations

from django.http import HttpRequest

from governance.models import Role
from governance.selectors import held_roles


def navigation(request: HttpRequest) -> dict[str, bool]:
    """Whether the menu offers the académie's dashboard (the DAN, administrators)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"dan_dashboard": False}
    # The roles the page itself read, if it did (À faire): one query less.
    return {
        "dan_dashboard": user.is_superuser
        or any(assignment.role == Role.DAN for assignment in held_roles(user))
    }
