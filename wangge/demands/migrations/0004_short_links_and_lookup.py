"""Short link codes for demands and followers (filled for existing rows), and one-time lookup codes."""

import django.db.models.deletion
from django.db import migrations, models

import wangge.core.links


def fill_short_codes(apps, schema_editor):  # type: ignore[no-untyped-def]
    from wangge.core.links import new_short_code

    for name in ("Demand", "DemandFollower"):
        model = apps.get_model("demands", name)
        taken: set[str] = set()
        batch = []
        for row in model.objects.filter(short_code__isnull=True).only("pk").iterator(chunk_size=2000):
            code = new_short_code()
            while code in taken:
                code = new_short_code()
            taken.add(code)
            row.short_code = code
            batch.append(row)
            if len(batch) >= 2000:
                model.objects.bulk_update(batch, ["short_code"])
                batch = []
        if batch:
            model.objects.bulk_update(batch, ["short_code"])


class Migration(migrations.Migration):
    dependencies = [
        ("demands", "0003_followers"),
    ]

    operations = [
        migrations.AddField(
            model_name="demand",
            name="short_code",
            field=models.CharField(editable=False, max_length=16, null=True),
        ),
        migrations.AddField(
            model_name="demandfollower",
            name="short_code",
            field=models.CharField(editable=False, max_length=16, null=True),
        ),
        migrations.RunPython(fill_short_codes, migrations.RunPython.noop),
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
