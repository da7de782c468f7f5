"""The default two-level catalogue of categories with time limits (hotline practice: docs/glossary.md)."""

from django.db import migrations

H, WD = "hours", "working_days"

# (code, name, accept_hours_normal, accept_hours_urgent, resolve_value_normal, resolve_value_urgent, unit)
CATALOGUE = [
    ("01", "道路与照明", [
        ("0101", "道路破损", 8, 2, 5, 1, WD),
        ("0102", "路灯不亮", 8, 2, 3, 1, WD),
        ("0103", "井盖缺失或损坏", 4, 1, 24, 4, H),
    ]),
    ("02", "供水供电", [
        ("0201", "停水", 4, 1, 24, 6, H),
        ("0202", "停电", 4, 1, 24, 4, H),
        ("0203", "水管漏水", 8, 2, 48, 8, H),
    ]),
    ("03", "环境卫生与厕所", [
        ("0301", "垃圾清运", 4, 1, 4, 2, H),
        ("0302", "公厕问题", 4, 2, 8, 4, H),
        ("0303", "污水外溢", 4, 1, 24, 4, H),
        ("0304", "农村改厕", 8, 4, 10, 3, WD),
    ]),
    ("04", "树木绿化", [
        ("0401", "枯死树木", 8, 2, 5, 1, WD),
        ("0402", "树木倒伏", 4, 1, 24, 4, H),
        ("0403", "绿地养护", 8, 4, 5, 2, WD),
    ]),
    ("05", "邻里纠纷", [
        ("0501", "噪声扰民", 8, 2, 3, 1, WD),
        ("0502", "相邻关系纠纷", 8, 2, 10, 3, WD),
        ("0503", "家庭矛盾", 8, 2, 5, 1, WD),
    ]),
    ("06", "住房与电梯", [
        ("0601", "电梯故障", 4, 1, 24, 2, H),
        ("0602", "房屋漏水", 8, 2, 5, 2, WD),
        ("0603", "物业管理", 8, 4, 13, 3, WD),
        ("0604", "老旧小区加装电梯", 8, 4, 13, 5, WD),
    ]),
    ("07", "养老与社会救助", [
        ("0701", "独居老人关爱", 8, 2, 3, 1, WD),
        ("0702", "低保与困难救助", 8, 4, 13, 3, WD),
        ("0703", "残疾人帮扶", 8, 4, 5, 2, WD),
    ]),
    ("08", "教育", [
        ("0801", "入学咨询", 8, 4, 3, 1, WD),
        ("0802", "校园周边安全", 8, 2, 5, 1, WD),
    ]),
    ("09", "医疗卫生", [
        ("0901", "就医咨询", 8, 4, 3, 1, WD),
        ("0902", "公共卫生", 8, 2, 5, 1, WD),
    ]),
    ("10", "停车与交通", [
        ("1001", "乱停乱放", 4, 1, 8, 2, H),
        ("1002", "停车位不足", 8, 4, 13, 5, WD),
        ("1003", "交通设施损坏", 8, 2, 5, 1, WD),
    ]),
    ("11", "市场与物价", [
        ("1101", "价格投诉", 8, 4, 13, 3, WD),
        ("1102", "食品安全", 8, 2, 5, 1, WD),
        ("1103", "占道经营", 8, 2, 3, 1, WD),
    ]),
    ("12", "安全隐患", [
        ("1201", "燃气泄漏", 2, 1, 4, 1, H),
        ("1202", "消防隐患", 4, 1, 24, 2, H),
        ("1203", "危险房屋", 4, 1, 3, 1, WD),
    ]),
]


def load(apps, schema_editor):
    Category = apps.get_model("demands", "Category")
    for sort, (code, name, children) in enumerate(CATALOGUE, start=1):
        parent, _ = Category.objects.get_or_create(code=code, defaults={"name": name, "sort": sort * 10})
        for child_sort, (ccode, cname, an, au, rn, ru, unit) in enumerate(children, start=1):
            Category.objects.get_or_create(
                code=ccode,
                defaults={
                    "name": cname,
                    "parent": parent,
                    "sort": sort * 10 + child_sort,
                    "accept_hours_normal": an,
                    "accept_hours_urgent": au,
                    "resolve_value_normal": rn,
                    "resolve_value_urgent": ru,
                    "resolve_unit": unit,
                },
            )


def unload(apps, schema_editor):
    Category = apps.get_model("demands", "Category")
    codes = [c for _, _, children in CATALOGUE for c, *_ in children]
    Category.objects.filter(code__in=codes).delete()
    Category.objects.filter(code__in=[c for c, _, _ in CATALOGUE]).delete()


class Migration(migrations.Migration):
    dependencies = [("demands", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
