"""Writes to governance data. Each function validates before it writes, so bad input
raises a ``ValidationError`` with a French message and changes nothing."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import (
    CatalogHeading,
    CatalogItem,
    Council,
    Delegation,
    Establishment,
    Meeting,
    Role,
    RoleAssignment,
    User,
)
from governance.selectors import may_schedule_meeting

CATALOGUE_FILE = Path(__file__).resolve().parent / "data" / "catalogue.json"


@dataclass(frozen=True)
class CatalogueLoadResult:
    headings_created: int
    items_created: int
    items_updated: int


@transaction.atomic
def load_catalogue(path: Path = CATALOGUE_FILE, *, overwrite: bool = False) -> CatalogueLoadResult:
    """Load the mission catalogue drawn from seeds 003 and 004.

    Rows are matched on their stable ``code``, so loading twice changes nothing.
    Administrators edit the catalogue afterwards; their edits survive a reload unless
    ``overwrite`` is asked for.
    """
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    headings_created = items_created = items_updated = 0
    for heading_data in data["headings"]:
        heading_fields = {
            "part": heading_data["part"],
            "part_title": heading_data["part_title"],
            "title": heading_data["title"],
            "order": heading_data["order"],
        }
        heading, created = CatalogHeading.objects.get_or_create(
            code=heading_data["code"], defaults=heading_fields
        )
        headings_created += created
        if overwrite and not created:
            CatalogHeading.objects.filter(pk=heading.pk).update(**heading_fields)
        for item_data in heading_data["items"]:
            item_fields = {
                "heading": heading,
                "text": item_data["text"],
                "priority_hint": item_data["priority_hint"],
                "outside_scope": item_data["outside_scope"],
                "scope_note": item_data.get("scope_note", ""),
                "order": item_data["order"],
            }
            _item, created = CatalogItem.objects.get_or_create(
                code=item_data["code"], defaults=item_fields
            )
            items_created += created
            if overwrite and not created:
                items_updated += CatalogItem.objects.filter(code=item_data["code"]).update(
                    **item_fields
                )
    return CatalogueLoadResult(headings_created, items_created, items_updated)


def update_person(user: User, values: dict[str, Any]) -> None:
    """Set ``values`` on ``user`` and save the fields that really change (nothing when
    none does). Letters keep the names their versions were given with."""
    changed = [name for name, value in values.items() if getattr(user, name) != value]
    for name in changed:
        setattr(user, name, values[name])
    if changed:
        user.save(update_fields=changed)


def assign_role(
    user: User,
    role: Role,
    *,
    establishment: Establishment | None = None,
    academy_id: int | None = None,
) -> RoleAssignment:
    """Give ``user`` a standing role; idempotent. A DAN's role is held in an académie
    (``academy_id``), the national role in none, every other role in an
    ``establishment``."""
    if role == Role.NATIONAL:
        if establishment is not None or academy_id is not None:
            raise ValidationError(
                _("Le rôle national ne se rattache à aucune académie ni aucun établissement."),
                code="national_scope",
            )
        assignment, _created = RoleAssignment.objects.get_or_create(user=user, role=role)
        return assignment
    if role == Role.DAN:
        if academy_id is None:
            raise ValidationError(_("Le rôle DAN se rattache à une académie."), code="dan_scope")
        assignment, _created = RoleAssignment.objects.get_or_create(
            user=user, role=role, academy_id=academy_id
        )
        return assignment
    if establishment is None:
        raise ValidationError(
            _("Ce rôle se rattache à un établissement."), code="establishment_scope"
        )
    assignment, _created = RoleAssignment.objects.get_or_create(
        user=user, role=role, establishment=establishment
    )
    return assignment


def grant_delegation(
    *,
    establishment: Establishment,
    delegator: User,
    delegate: User,
    starts_on: dt.date,
    ends_on: dt.date,
) -> Delegation:
    """Record that the principal delegates to a deputy for a period."""
    errors: dict[str, list[str]] = {}
    if not RoleAssignment.objects.filter(
        user=delegator, role=Role.PRINCIPAL, establishment=establishment
    ).exists():
        errors["delegator"] = [_("Seul le chef d'établissement peut déléguer sa signature.")]
    if not RoleAssignment.objects.filter(
        user=delegate, role=Role.DEPUTY, establishment=establishment
    ).exists():
        errors["delegate"] = [
            _("La délégation va à un chef d'établissement adjoint de cet établissement.")
        ]
    if starts_on > ends_on:
        errors["ends_on"] = [_("La fin de la délégation doit suivre son début.")]
    if errors:
        raise ValidationError(errors)
    return Delegation.objects.create(
        establishment=establishment,
        delegator=delegator,
        delegate=delegate,
        starts_on=starts_on,
        ends_on=ends_on,
    )


def revoke_delegation(delegation: Delegation) -> Delegation:
    """End a delegation now; it stays on record."""
    if delegation.revoked_at is None:
        delegation.revoked_at = timezone.now()
        delegation.save(update_fields=["revoked_at"])
    return delegation


def schedule_meeting(
    council: Council,
    *,
    by: User | None,
    starts_at: dt.datetime,
    convocation: int = 1,
    location: str = "",
    members_in_office: int | None = None,
) -> Meeting:
    """Schedule a séance. Members in office default to the council's current number;
    a second convocation is the CA reconvened after a missed quorum. ``by``: who
    schedules it, the principal (or a deputy under delegation) or the council's own
    secretary (``PermissionDenied`` for anyone else); ``None`` for the demo's data."""
    if by is not None and not may_schedule_meeting(by, council.establishment, council.kind):
        raise PermissionDenied(
            _("Seuls le chef d'établissement et le secrétaire du conseil fixent ses séances.")
        )
    if convocation not in (1, 2):
        raise ValidationError({"convocation": [_("Première (1) ou seconde (2) convocation.")]})
    if timezone.is_naive(starts_at):
        raise ValidationError({"starts_at": [_("Indiquez l'heure avec son fuseau horaire.")]})
    location = location.strip()
    limit = Meeting._meta.get_field("location").max_length
    if limit is not None and len(location) > limit:
        raise ValidationError(
            {"location": [_("Le lieu tient en %(limit)s caractères au plus.") % {"limit": limit}]}
        )
    return Meeting.objects.create(
        council=council,
        starts_at=starts_at,
        convocation=convocation,
        location=location,
        members_in_office=members_in_office or council.members_in_office,
    )
