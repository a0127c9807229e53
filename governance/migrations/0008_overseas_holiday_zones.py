"""The overseas académies' own holiday zones; an académie already created in the
catch-all « Outre-mer » moves to its own, found by its code."""

from django.db import migrations, models

OWN_ZONES = {
    "guadeloupe": "guadeloupe",
    "guyane": "guyane",
    "martinique": "martinique",
    "mayotte": "mayotte",
    "la-reunion": "reunion",
    "reunion": "reunion",
}


def move_overseas_academies(apps, schema_editor):
    Academy = apps.get_model("governance", "Academy")
    for code, zone in OWN_ZONES.items():
        Academy.objects.filter(code=code, holiday_zone="outre_mer").update(holiday_zone=zone)


class Migration(migrations.Migration):

    dependencies = [
        ('governance', '0007_establishment_department_closed_and_national_role'),
    ]

    operations = [
        migrations.AlterField(
            model_name='academy',
            name='holiday_zone',
            field=models.CharField(choices=[('A', 'Zone A'), ('B', 'Zone B'), ('C', 'Zone C'), ('corse', 'Corse'), ('guadeloupe', 'Guadeloupe'), ('guyane', 'Guyane'), ('martinique', 'Martinique'), ('mayotte', 'Mayotte'), ('reunion', 'La Réunion'), ('outre_mer', 'Outre-mer')], default='A', max_length=10, verbose_name='zone de vacances scolaires'),
        ),
        migrations.RunPython(move_overseas_academies, migrations.RunPython.noop, elidable=True),
    ]
