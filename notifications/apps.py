from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """Reminders, e-mails and archives, carried out by Celery from the outbox rows that
    the transitions write. Depends on ``governance`` and ``workflow``."""

    name = "notifications"
    verbose_name = _("Notifications et archives")

    def ready(self) -> None:
        from notifications import checks  # noqa: F401  (registers the system checks)
