"""The default facility types and their checklists (an open list: administrators add more).

Public toilets follow the usual 城市公厕 inspection sheet; each type files failures under a demand
category of the default catalogue (demands 0002), and a checklist item may name its own.
"""

from django.db import migrations

# code, name, category code, [(item code, item name, own category code or "")]
TYPES = [
    ("toilet", "公厕", "0302", [
        ("floor", "地面清洁", ""),
        ("odour", "无异味", ""),
        ("handwash", "洗手设施完好", ""),
        ("lighting", "照明正常", ""),
        ("supplies", "厕纸/洗手液供应", ""),
        ("accessible", "无障碍设施", ""),
        ("signage", "标识清晰", ""),
        ("rules", "管理制度上墙", ""),
    ]),
    ("refuse_station", "垃圾站", "0301", [
        ("cleared", "垃圾日产日清", ""),
        ("bins", "分类收集容器完好", ""),
        ("leachate", "无污水外溢", "0303"),
        ("odour", "无明显异味", ""),
        ("pests", "蚊蝇消杀到位", ""),
        ("signage", "标识清晰", ""),
    ]),
    ("market", "农贸市场", "0301", [
        ("floor", "地面干净无积水", ""),
        ("refuse", "垃圾及时清运", ""),
        ("drains", "排水通畅", "0303"),
        ("prices", "明码标价", "1101"),
        ("scales", "公平秤可用", "1101"),
        ("stalls", "无占道经营", "1103"),
        ("fire", "消防器材完好", "1202"),
    ]),
    ("park", "公园", "0403", [
        ("greenery", "绿地养护良好", ""),
        ("paths", "园路平整无破损", "0101"),
        ("lighting", "照明正常", "0102"),
        ("bins", "垃圾桶完好", "0301"),
        ("facilities", "座椅健身器材完好", ""),
        ("safety", "水边护栏与警示牌完好", "1202"),
    ]),
    ("parking_lot", "停车场", "1003", [
        ("markings", "车位标线清晰", ""),
        ("signage", "收费公示清楚", "1101"),
        ("lighting", "照明正常", "0102"),
        ("surface", "路面无破损", "0101"),
        ("fire", "消防器材完好", "1202"),
    ]),
]


def load(apps, schema_editor):
    FacilityType = apps.get_model("facilities", "FacilityType")
    ChecklistItem = apps.get_model("facilities", "ChecklistItem")
    for sort, (code, name, category, items) in enumerate(TYPES, start=1):
        ftype, created = FacilityType.objects.get_or_create(
            code=code, defaults={"name": name, "category_code": category, "sort": sort * 10}
        )
        if not created:
            continue
        for position, (item_code, item_name, item_category) in enumerate(items, start=1):
            ChecklistItem.objects.create(
                facility_type=ftype, code=item_code, name=item_name, category_code=item_category, sort=position * 10
            )


class Migration(migrations.Migration):
    dependencies = [("facilities", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
