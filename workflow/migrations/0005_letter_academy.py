"""The académie on the letter, copied from its establishment, and kept equal to it by
PostgreSQL: the DAN's lists filter on it (bench/RESULTS.md, 3 December)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

# A letter's (establishment, académie) must be an establishment's (id, académie); when
# an establishment changes académie (the admin allows it), its letters follow. Django
# has no composite foreign key, hence SQL. DEFERRABLE like Django's own keys, so that a
# transaction may create an establishment and its letters in any order.
SAME_ACADEMY = """
ALTER TABLE workflow_missionletter
  ADD CONSTRAINT letter_academy_is_establishments
  FOREIGN KEY (establishment_id, academy_id)
  REFERENCES governance_establishment (id, academy_id)
  ON UPDATE CASCADE ON DELETE NO ACTION
  DEFERRABLE INITIALLY DEFERRED
"""


def fill(apps, schema_editor):
    """One UPDATE, each letter taking its establishment's académie."""
    MissionLetter = apps.get_model("workflow", "MissionLetter")
    Establishment = apps.get_model("governance", "Establishment")
    academy = Establishment.objects.filter(pk=OuterRef("establishment_id")).values("academy")
    on_postgresql = schema_editor.connection.vendor == "postgresql"
    if on_postgresql:
        # The new key's checks run now, not at commit: left pending, they would forbid
        # the ALTER TABLE that follows in this transaction.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    MissionLetter.objects.update(academy_id=Subquery(academy[:1]))
    if on_postgresql:
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")


def add_same_academy(apps, schema_editor):
    """PostgreSQL only: SQLite (a developer's default) cannot add a constraint to a
    table; there the model's ``save`` alone fills the column."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(SAME_ACADEMY)
    # Without fresh statistics the planner keeps the old plans for the new column
    # (a sequential count, 24 ms at 60 000 letters) until autovacuum comes by.
    schema_editor.execute("ANALYZE workflow_missionletter")


def drop_same_academy(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE workflow_missionletter DROP CONSTRAINT letter_academy_is_establishments"
    )


def academy_field(*, null: bool) -> models.ForeignKey:
    return models.ForeignKey(
        db_index=False,
        editable=False,
        null=null,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to="governance.academy",
        verbose_name="académie",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0003_establishment_id_academy"),
        ("workflow", "0004_letter_state_id_index"),
    ]

    operations = [
        # Nullable while the existing letters are filled, then required.
        migrations.AddField("missionletter", "academy", academy_field(null=True)),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
        migrations.AlterField("missionletter", "academy", academy_field(null=False)),
        migrations.AddIndex(
            model_name="missionletter",
            index=models.Index(
                fields=["academy", "state", "id"], name="letter_academy_state_id_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="missionletter",
            index=models.Index(
                fields=["academy", "school_year", "id"], name="letter_academy_year_id_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="missionletter",
            index=models.Index(
                fields=["academy", "school_year", "state", "id"],
                name="letter_academy_year_state_idx",
            ),
        ),
        migrations.RunPython(add_same_academy, drop_same_academy, elidable=False),
    ]
