"""The « Mes notifications » page: how the person signed in wants to be told (DESIGN
§6). Every mail links here. The choices are checked and saved by
``notifications.preferences.update_preferences``, as over the API."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from governance.selectors import signed_in_user
from notifications.models import DeliveryMode
from notifications.preferences import (
    HOURS,
    KIND_HINTS,
    Delivery,
    Kind,
    preferences_of,
    update_preferences,
)
from workflow.errors import InvalidInput


@login_required
def notification_preferences(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    current = preferences_of(user)
    typed: dict[str, Any] = {
        "mode": current.mode,
        "digest_hour": str(current.digest_hour),
        "kinds": dict(current.kinds),
    }
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        typed = {
            "mode": request.POST.get("mode", ""),
            "digest_hour": request.POST.get("digest_hour", ""),
            "kinds": {kind: request.POST.get(f"kind-{kind}", Delivery.DEFAULT) for kind in Kind},
        }
        try:
            update_preferences(
                user,
                mode=typed["mode"],
                digest_hour=typed["digest_hour"],
                kinds=typed["kinds"],
            )
        except InvalidInput as exc:
            errors = exc.errors
        else:
            messages.success(request, _("Vos préférences sont enregistrées."))
            return redirect("notification-preferences")
    return render(
        request,
        "notifications/preferences.html",
        {
            "typed": typed,
            "errors": errors,
            "modes": DeliveryMode.choices,
            "hours": [str(hour) for hour in HOURS],
            "deliveries": Delivery.choices,
            "kinds": [
                {
                    "value": kind.value,
                    "label": kind.label,
                    "hint": KIND_HINTS[kind],
                    "chosen": typed["kinds"].get(kind.value, Delivery.DEFAULT),
                    "errors": errors.get(f"kinds.{kind.value}", []),
                }
                for kind in Kind
            ],
            "email_failing": user.email_failing,
        },
    )
