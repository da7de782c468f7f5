"""Short link codes become unique and required; one-time lookup codes ("find my demand")."""

import django.db.models.deletion
from django.db import migrations, models

import wangge.core.links


class Migration(migrations.Migration):
    dependencies = [
        ("demands", "0004_short_codes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="demand",
            name="short_code",
            field=models.CharField(
                default=wangge.core.links.new_short_code, editable=False, max_length=16, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="demandfollower",
            name="short_code",
            field=models.CharField(
                default=wangge.core.links.new_short_code, editable=False, max_length=16, unique=True
            ),
        ),
        migrations.CreateModel(
            name="LookupCode",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("phone", models.CharField(max_length=20, verbose_name="phone")),
                ("code_hash", models.CharField(editable=False, max_length=64)),
                ("created_at", models.DateTimeField(verbose_name="created at")),
                ("expires_at", models.DateTimeField(verbose_name="expires at")),
                ("attempts", models.PositiveSmallIntegerField(default=0, verbose_name="attempts")),
                ("used_at", models.DateTimeField(blank=True, null=True, verbose_name="used at")),
                (
                    "demand",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="demands.demand",
                        verbose_name="demand",
                    ),
                ),
            ],
            options={
                "verbose_name": "lookup code",
                "verbose_name_plural": "lookup codes",
                "indexes": [models.Index(fields=["demand", "phone", "-created_at"], name="lookupcode_pair")],
            },
        ),
    ]
