"""Reads of governance data: who holds which role where, and which school year is which."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from governance.models import (
    Academy,
    CatalogHeading,
    CatalogItem,
    Council,
    Delegation,
    Establishment,
    Meeting,
    Role,
    RoleAssignment,
    SchoolYear,
    User,
)


def signed_in_user(request: Any) -> User:
    """The person behind a signed-in request (a page's or the API's): views reach here
    only behind a sign-in requirement."""
    user = request.user
    assert isinstance(user, User)
    return user


def school_year_code_for(day: dt.date) -> str:
    """``2026-11-23`` → ``"2026-2027"``: a school year starts in September."""
    first = day.year if day.month >= 9 else day.year - 1
    return f"{first}-{first + 1}"


def school_year_for(day: dt.date | None = None) -> SchoolYear | None:
    """The school year containing ``day`` (today in Europe/Paris by default)."""
    day = day or timezone.localdate()
    return SchoolYear.objects.filter(starts_on__lte=day, ends_on__gte=day).first()


def roles_of(user: User) -> QuerySet[RoleAssignment]:
    return RoleAssignment.objects.filter(user=user).select_related("establishment", "academy")


class HeldRole(NamedTuple):
    """One of the person's roles as a row (``held_roles``): where it is held, by id,
    and by name as the establishment or the académie shows itself."""

    role: str
    establishment_id: int | None
    academy_id: int | None
    place: str

    @property
    def role_label(self) -> str:
        return str(Role(self.role).label)


# Where ``held_roles`` keeps the roles on the person's instance.
_HELD_ROLES = "_held_roles"


def held_roles(user: User) -> list[HeldRole]:
    """The person's roles, read once for their instance: a page, the menu of its layout
    and the rules it applies each ask. A request reads the person anew, so the list
    lives no longer than the request, as Django keeps a person's permissions. Read as
    rows: every page asks, and only these few values are shown."""
    held: list[HeldRole] | None = getattr(user, _HELD_ROLES, None)
    if held is None:
        rows = (
            RoleAssignment.objects.filter(user=user)
            .order_by("pk")
            .values_list(
                "role",
                "establishment_id",
                "academy_id",
                "establishment__name",
                "establishment__uai",
                "academy__name",
            )
        )
        held = [
            HeldRole(
                role,
                establishment_id,
                academy_id,
                # As ``Establishment`` and ``Academy`` show themselves (their __str__).
                f"{name} ({code})" if establishment_id is not None else academy_name or "",
            )
            for role, establishment_id, academy_id, name, code, academy_name in rows
        ]
        setattr(user, _HELD_ROLES, held)
    return held


def has_role(user: User, role: Role, establishment: Establishment) -> bool:
    """Whether ``user`` holds ``role`` in ``establishment`` (the DAN: in its académie)."""
    if role == Role.DAN:
        return RoleAssignment.objects.filter(
            user=user, role=Role.DAN, academy_id=establishment.academy_id
        ).exists()
    return RoleAssignment.objects.filter(user=user, role=role, establishment=establishment).exists()


def delegations_in_force(delegate: User, day: dt.date | None = None) -> QuerySet[Delegation]:
    """The delegations that let ``delegate`` act for the principal on ``day`` (today by
    default): begun, not ended, not revoked. The one statement of that rule."""
    day = day or timezone.localdate()
    return Delegation.objects.filter(
        delegate=delegate, starts_on__lte=day, ends_on__gte=day, revoked_at__isnull=True
    )


def active_delegation(
    delegate: User, establishment: Establishment, day: dt.date | None = None
) -> Delegation | None:
    """The delegation that lets ``delegate`` act for the principal on ``day``, if any."""
    return (
        delegations_in_force(delegate, day)
        .filter(establishment=establishment)
        .order_by("-starts_on")
        .first()
    )


def establishments_visible_to(user: User) -> QuerySet[Establishment]:
    """Establishments where ``user`` holds a role, plus every one of a DAN's académie;
    every one for the national role and the administrators, who read every académie
    (as ``visible_letters`` lets them read every letter)."""
    if reads_every_academy(user):
        return Establishment.objects.all()
    assignments = RoleAssignment.objects.filter(user=user)
    return Establishment.objects.filter(
        pk__in=assignments.filter(establishment__isnull=False).values("establishment")
    ) | Establishment.objects.filter(
        academy__in=assignments.filter(role=Role.DAN).values("academy")
    )


def may_schedule_meeting(user: User, establishment: Establishment, council_kind: str) -> bool:
    """The principal (or a deputy under delegation), or the council's own secretary."""
    roles = set(
        RoleAssignment.objects.filter(user=user, establishment=establishment).values_list(
            "role", flat=True
        )
    )
    secretary = Role.CP_SECRETARY if council_kind == "pedagogical" else Role.CA_SECRETARY
    if Role.PRINCIPAL in roles or secretary in roles:
        return True
    return Role.DEPUTY in roles and active_delegation(user, establishment) is not None


def councils_scheduled_by(user: User) -> list[Council]:
    """The councils whose meetings ``user`` may schedule (``may_schedule_meeting``), by
    establishment."""
    councils = (
        Council.objects.filter(
            establishment__in=RoleAssignment.objects.filter(
                user=user, establishment__isnull=False
            ).values("establishment")
        )
        .select_related("establishment")
        .order_by("establishment__name", "-kind")  # the conseil pédagogique first
    )
    return [c for c in councils if may_schedule_meeting(user, c.establishment, c.kind)]


def meetings_to_come(
    establishment: Establishment, council_kind: str, limit: int = 10
) -> list[Meeting]:
    """A council's meetings still to come, the soonest first: those a letter may be
    sent to."""
    return list(
        Meeting.objects.filter(
            council__establishment=establishment,
            council__kind=council_kind,
            starts_at__gt=timezone.now(),
        )
        .select_related("council")
        .order_by("starts_at", "pk")[:limit]
    )


def reads_every_academy(user: User) -> bool:
    """The administrators and the national role (the ministry's digital directorate)
    read every académie's letters and dashboard; the national role only reads."""
    return user.is_superuser or any(
        assignment.role == Role.NATIONAL for assignment in held_roles(user)
    )


def may_see_dashboard(user: User) -> bool:
    """The académie's dashboard is the DAN's; the national role and the administrators
    read every académie's."""
    return reads_every_academy(user) or any(
        assignment.role == Role.DAN for assignment in held_roles(user)
    )


def dashboard_academies(user: User) -> QuerySet[Academy]:
    """The académies whose dashboard ``user`` may read, by name: every one for the
    national role and the administrators, her own for a DAN, none for anybody else."""
    if reads_every_academy(user):
        return Academy.objects.order_by("name")
    mine = [a.academy_id for a in held_roles(user) if a.role == Role.DAN and a.academy_id]
    return Academy.objects.filter(pk__in=mine).order_by("name")


def catalogue_headings() -> list[CatalogHeading]:
    """The mission catalogue by heading, every item (retired ones too: a letter may
    still hold one) prefetched in order."""
    return list(
        CatalogHeading.objects.prefetch_related(
            Prefetch("items", queryset=CatalogItem.objects.order_by("order", "id"))
        )
    )


def headed_establishments(user: User, roles: list[HeldRole]) -> list[int]:
    """The ids of the establishments ``user`` acts for the principal of today, from the
    roles already read (``held_roles``): the rule of ``heads_of`` without reading the
    roles again (a deputy's delegation is still read)."""
    principal = [r.establishment_id for r in roles if r.role == Role.PRINCIPAL]
    deputy = [r.establishment_id for r in roles if r.role == Role.DEPUTY]
    if deputy:
        deputy = list(
            delegations_in_force(user)
            .filter(establishment_id__in=deputy)
            .values_list("establishment_id", flat=True)
        )
    return [e for e in [*principal, *deputy] if e is not None]


def heads_of(user: User, day: dt.date | None = None) -> QuerySet[RoleAssignment]:
    """Where ``user`` acts for the principal on ``day`` (today by default), so may begin
    or renew a letter: as principal, or as deputy under an active delegation (the rule
    of ``active_delegation``). The pages offer those forms to no one else."""
    delegated = delegations_in_force(user, day).filter(establishment=OuterRef("establishment"))
    return (
        roles_of(user)
        .filter(Q(role=Role.PRINCIPAL) | Q(Exists(delegated), role=Role.DEPUTY))
        .order_by("establishment__name")
    )


def failing_addresses(usernames: list[str]) -> dict[str, str]:
    """username → why the mail server refuses the person's address, for those of
    ``usernames`` whose address is failing (``User.email_failing_since``)."""
    return dict(
        User.objects.filter(username__in=usernames, email_failing_since__isnull=False).values_list(
            "username", "email_failing_reason"
        )
    )
