"""System checks of the e-mails: in production, their links must reach the site."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


@register(deploy=True)
def site_url(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``check --deploy``: ``SITE_URL``, the address every e-mail's links start with,
    is set to the site's public HTTPS address. Left to its local default, the links of
    every e-mail would lead to the recipient's own machine."""
    url = settings.SITE_URL
    parts = urlsplit(url)
    hint = (
        "Donnez dans SITE_URL l'adresse publique du site, en https, par exemple "
        "SITE_URL=https://lettres-de-mission.ac-exemple.fr"
    )
    if parts.hostname in LOCAL_HOSTS or not parts.hostname:
        return [
            Error(
                f"SITE_URL n'est pas défini, ou vaut une adresse locale ({url}) : les liens "
                "des courriels mèneraient à la machine de chaque destinataire.",
                hint=hint,
                id="notifications.E001",
            )
        ]
    if parts.scheme != "https":
        return [
            Error(
                f"SITE_URL ({url}) n'est pas en https : les liens des courriels passeraient "
                "en clair.",
                hint=hint,
                id="notifications.E002",
            )
        ]
    return []
