from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    """The letter, its lifecycle and the transition service (the only way a state
    changes), with its audit trail. Depends on ``governance``, never on ``notifications``."""

    name = "workflow"
    verbose_name = _("Lettres de mission")

    def ready(self) -> None:
        from workflow import checks  # noqa: F401  (registers the system checks)
