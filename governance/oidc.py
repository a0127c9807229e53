"""Sign-in through the académie's identity provider (OpenID Connect; ProConnect works the
same way). The provider says who the person is; its claims also say in which
establishment (UAI) and in what role they work, which becomes their role here.

Claim names and role values differ from one académie to another, so they are settings
(``OIDC_CLAIM_*``, ``OIDC_ROLE_MAP``). An unknown UAI or role gives no role: the person
signs in and sees nothing until an administrator gives them one.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from governance.models import Establishment, Role, User
from governance.services import assign_role, update_person

logger = logging.getLogger(__name__)


def _first(value: Any) -> str:
    """Claims may be a string or a list of strings: the first one."""
    if isinstance(value, list | tuple):
        return str(value[0]) if value else ""
    return str(value or "")


def _values(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)] if value else []


def username_from(claims: dict[str, Any]) -> str:
    return _first(claims.get(settings.OIDC_CLAIM_USERNAME) or claims.get("sub"))


def roles_from(claims: dict[str, Any]) -> list[tuple[str, Role]]:
    """(UAI, role) pairs the claims grant. A claim may list several establishments."""
    uais = [u.strip().upper() for u in _values(claims.get(settings.OIDC_CLAIM_UAI))]
    roles = [
        Role(settings.OIDC_ROLE_MAP[value])
        for value in _values(claims.get(settings.OIDC_CLAIM_ROLE))
        if value in settings.OIDC_ROLE_MAP
    ]
    return [(uai, role) for uai in uais if uai for role in roles if role != Role.DAN]


class AcademyOIDCBackend(OIDCAuthenticationBackend):
    def filter_users_by_claims(self, claims: dict[str, Any]) -> QuerySet[User]:
        username = username_from(claims)
        if not username:
            return User.objects.none()
        return User.objects.filter(username=username)

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool(username_from(claims))

    @transaction.atomic
    def create_user(self, claims: dict[str, Any]) -> User:
        user = User.objects.create_user(username_from(claims))
        return self.update_user(user, claims)

    @transaction.atomic
    def update_user(self, user: User, claims: dict[str, Any]) -> User:
        """Keep the name and professional e-mail from the provider; add the roles its
        claims grant (roles are never removed here: an administrator does that)."""
        given = {
            "first_name": _first(claims.get("given_name")) or user.first_name,
            "last_name": _first(claims.get("usual_name") or claims.get("family_name"))
            or user.last_name,
            "email": _first(claims.get("email")) or user.email,
        }
        # Only a real change is saved: a sign-in that changes nothing keeps the
        # person's letters in the API's cache (workflow.api.representations).
        update_person(user, given)
        for uai, role in roles_from(claims):
            establishment = Establishment.objects.filter(uai=uai).first()
            if establishment is None:
                logger.warning("OIDC sign-in of %s: unknown UAI %s", user.username, uai)
                continue
            assign_role(user, role, establishment=establishment)
        return user
