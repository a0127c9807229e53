"""The default reminder policies of DESIGN §6 and the beat schedule, as rows that
administrators edit afterwards."""

from django.db import migrations

POLICIES = [
    # code, label, state, anchor, audience, offsets, repeat, max
    ("concertation-accord", "Concertation : votre accord est attendu", "concertation",
     "version_shared", "awaited", [7], 7, 6),
    ("concertation-escalade", "Concertation : des accords sont toujours attendus",
     "concertation", "version_shared", "principal", [21], 7, 4),
    ("avis-cp", "Avis du conseil pédagogique à saisir", "pedagogical_council", "meeting",
     "awaited", [3], 7, 4),
    ("avis-cp-chef", "Avis du conseil pédagogique toujours pas saisi", "pedagogical_council",
     "meeting", "principal", [3], 7, 4),
    ("avis-ca", "Avis du conseil d'administration à saisir", "board", "meeting", "awaited",
     [3], 7, 4),
    ("avis-ca-chef", "Avis du conseil d'administration toujours pas saisi", "board", "meeting",
     "principal", [3], 7, 4),
    ("signatures", "Lettre de mission à signer", "signature", "state_entered", "awaited", [3], 3,
     10),
    ("compte-rendu", "Compte rendu de mission à remettre", "report_due", "report_due",
     "awaited", [-14, -7, -1, 7], 7, 8),
    ("compte-rendu-chef", "Compte rendu de mission en retard", "report_due", "report_due",
     "principal", [7], 7, 3),
    ("accuse-reception", "Accusé de réception du compte rendu attendu", "report_submitted",
     "state_entered", "awaited", [7], 7, 4),
]

DAILY = [
    # name, task, hour, minute
    ("Relances du jour", "notifications.plan_reminders", 8, 0),
    ("Récapitulatifs quotidiens", "notifications.send_digests", 17, 0),
    ("Ouverture des comptes rendus", "notifications.open_due_reports", 6, 30),
]


def create(apps, schema_editor):
    ReminderPolicy = apps.get_model("notifications", "ReminderPolicy")
    for code, label, state, anchor, audience, offsets, repeat, count in POLICIES:
        ReminderPolicy.objects.get_or_create(
            code=code,
            defaults={"label": label, "state": state, "anchor": anchor, "audience": audience,
                      "offsets_days": offsets, "repeat_every_days": repeat, "max_count": count},
        )
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name="Balayage des notifications et archives",
        defaults={"task": "notifications.sweep", "interval": every_minute,
                  "expire_seconds": 120},
    )
    for name, task, hour, minute in DAILY:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=str(minute), hour=str(hour), day_of_week="*", day_of_month="*",
            month_of_year="*", timezone="Europe/Paris",
        )
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "crontab": crontab, "expire_seconds": 3600}
        )


def remove(apps, schema_editor):
    apps.get_model("notifications", "ReminderPolicy").objects.filter(
        code__in=[p[0] for p in POLICIES]
    ).delete()
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task__startswith="notifications."
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
