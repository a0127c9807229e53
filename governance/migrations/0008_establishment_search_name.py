"""The establishments' normalized name, for a search that ignores accents and case."""

from django.db import migrations, models

from governance.text import normalized


def fill_search_names(apps, schema_editor):
    Establishment = apps.get_model("governance", "Establishment")
    establishments = list(Establishment.objects.only("pk", "name"))
    for establishment in establishments:
        establishment.search_name = normalized(establishment.name)
    Establishment.objects.bulk_update(establishments, ["search_name"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0007_establishment_department_closed_and_national_role"),
    ]

    operations = [
        migrations.AddField(
            model_name="establishment",
            name="search_name",
            field=models.CharField(
                default="", editable=False, max_length=200, verbose_name="nom normalisé"
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill_search_names, migrations.RunPython.noop, elidable=True),
    ]
