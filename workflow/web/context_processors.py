"""What the layout needs on every page."""

from __future__ import annotations

from django.http import HttpRequest

from governance.selectors import may_see_dashboard


def navigation(request: HttpRequest) -> dict[str, bool]:
    """Whether the menu offers the académie's dashboard (the DAN, administrators)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"dan_dashboard": False}
    return {"dan_dashboard": may_see_dashboard(user)}
