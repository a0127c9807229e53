import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('workflow', '0005_letter_academy'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='LetterVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveIntegerField(verbose_name='version')),
                ('content', models.JSONField(verbose_name='contenu')),
                ('content_sha256', models.CharField(max_length=64, verbose_name='empreinte SHA-256')),
                ('created_at', models.DateTimeField(verbose_name='établie le')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='établie par')),
                ('letter', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='versions', to='workflow.missionletter')),
            ],
            options={
                'verbose_name': 'version de la lettre',
                'verbose_name_plural': 'versions de la lettre',
                'ordering': ['letter_id', 'number'],
                'constraints': [models.UniqueConstraint(fields=('letter', 'number'), name='one_row_per_version')],
            },
        ),
        migrations.AddField(
            model_name='signature',
            name='signer_name',
            field=models.CharField(default='', max_length=300, verbose_name='nom du signataire'),
            preserve_default=False,
        ),
    ]
