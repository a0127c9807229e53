from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    """Académies, establishments, school years, people and their roles, councils and the
    mission catalogue: the ground the letters stand on. Depends on no other app of ours."""

    name = "governance"
    verbose_name = _("Gouvernance")
