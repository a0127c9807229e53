"""The revision at which each closing text of a report last changed. A report written
before counts each text as changed at its current revision: a save from a page read
earlier is still asked to choose, as it was."""

from django.db import migrations, models

import workflow.models


def closing_texts_at_current_revision(apps, schema_editor):
    YearEndReport = apps.get_model("workflow", "YearEndReport")
    reports = list(YearEndReport.objects.only("pk", "revision"))
    for report in reports:
        report.closing_revisions = dict.fromkeys(workflow.models.CLOSING_FIELDS, report.revision)
    YearEndReport.objects.bulk_update(reports, ["closing_revisions"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0011_sealed_letters_paper_signatures_audit_timestamps"),
    ]

    operations = [
        migrations.AddField(
            model_name="yearendreport",
            name="closing_revisions",
            field=models.JSONField(
                blank=True,
                default=workflow.models.closing_revisions_at_creation,
                editable=False,
                verbose_name="révision de chaque texte du bilan",
            ),
        ),
        migrations.RunPython(
            closing_texts_at_current_revision, migrations.RunPython.noop, elidable=True
        ),
    ]
