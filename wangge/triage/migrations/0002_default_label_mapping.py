"""Default mapping of the seven public labels onto the default county catalogue (demands 0002)."""

from django.db import migrations

MAPPING = {
    "城乡建设": "06",
    "环境保护": "03",
    "交通运输": "10",
    "教育文体": "08",
    "劳动和社会保障": "07",
    "商贸旅游": "11",
    "卫生计生": "09",
}


def load(apps, schema_editor):
    LabelMapping = apps.get_model("triage", "LabelMapping")
    for label, code in MAPPING.items():
        LabelMapping.objects.get_or_create(label=label, defaults={"category_code": code, "note": "公开样本七类默认映射"})


def unload(apps, schema_editor):
    apps.get_model("triage", "LabelMapping").objects.filter(label__in=list(MAPPING)).delete()


class Migration(migrations.Migration):
    dependencies = [("triage", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
