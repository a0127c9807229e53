from django.db import migrations, models


class Migration(migrations.Migration):
    """The target of the letters' foreign key on (establishment, académie): see
    workflow's 0005."""

    dependencies = [
        ("governance", "0002_council_meeting_council_one_council_per_kind_and_more"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="establishment",
            constraint=models.UniqueConstraint(
                fields=("id", "academy"), name="establishment_id_academy"
            ),
        ),
    ]
