"""The daily timestamp of the audit chains (workflow.audit.timestamps), in the beat
schedule: after midnight, yesterday's heads, stamped by the authority."""

from django.db import migrations

NAME = "Horodatage quotidien de l'historique"
TASK = "notifications.timestamp_audit"


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="0", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="Europe/Paris",
    )
    PeriodicTask.objects.get_or_create(
        name=NAME, defaults={"task": TASK, "crontab": crontab, "expire_seconds": 3600}
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0004_email_summary"),  # the latest notifications migration
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
