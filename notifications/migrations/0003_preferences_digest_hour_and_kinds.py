"""Each person's digest hour and per-kind choices, e-mails dropped by choice, and the
digest sweep run every hour (it sends each person's digest at their hour)."""

import django.core.validators
from django.db import migrations, models

DIGEST_TASK = "notifications.send_digests"


def _run_digests_at(apps, hour):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour=hour, day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="Europe/Paris",
    )
    PeriodicTask.objects.filter(task=DIGEST_TASK).update(crontab=crontab, interval=None)


def hourly(apps, schema_editor):
    _run_digests_at(apps, "*")


def daily(apps, schema_editor):
    _run_digests_at(apps, "17")


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0002_default_policies_and_schedule'),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name='notificationpreference',
            name='digest_hour',
            field=models.PositiveSmallIntegerField(default=17, help_text='Heure de Paris, de 0 à 23.', validators=[django.core.validators.MaxValueValidator(23)], verbose_name='heure du récapitulatif'),
        ),
        migrations.AddField(
            model_name='notificationpreference',
            name='kinds',
            field=models.JSONField(blank=True, default=dict, verbose_name='choix par sorte de notification'),
        ),
        migrations.AlterField(
            model_name='email',
            name='status',
            field=models.CharField(choices=[('pending', 'À envoyer'), ('held', 'Réservé au récapitulatif'), ('sending', "En cours d'envoi"), ('sent', 'Envoyé'), ('digested', 'Inclus dans un récapitulatif'), ('dropped', "Non envoyé : la personne n'en veut pas"), ('failed', 'En échec')], default='pending', max_length=10, verbose_name='état'),
        ),
        migrations.RunPython(hourly, daily),
    ]
