"""Short link codes for demands and followers, filled for existing rows (made unique in 0005).

Filling and constraining are two migrations: on PostgreSQL, rows updated in a transaction leave pending
trigger events (deferred foreign keys) that forbid altering the same table before commit."""

from django.db import migrations, models


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
    ]
