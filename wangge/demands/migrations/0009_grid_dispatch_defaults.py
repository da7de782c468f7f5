"""Defaults of two case rules on the default catalogue (0002_default_categories).

网格直派 (`grid_may_dispatch`): the grid leader sends straight to the utility, as Liuyang does with a
broken pole sent to the power company: water and power cuts, burst water pipes, gas leaks.
核查 (`needs_verification`): safety hazards (安全隐患) are confirmed on site before they count as resolved.
Flags are only switched on here, never off: a county's own choices for other categories stay as they are.
"""

from django.db import migrations

GRID_DISPATCH = ("0201", "0202", "0203", "1201")  # 停水, 停电, 水管漏水, 燃气泄漏
NEEDS_VERIFICATION = ("12", "1201", "1202", "1203")  # 安全隐患: 燃气泄漏, 消防隐患, 危险房屋


def load(apps, schema_editor):
    Category = apps.get_model("demands", "Category")
    Category.objects.filter(code__in=GRID_DISPATCH).update(grid_may_dispatch=True)
    Category.objects.filter(code__in=NEEDS_VERIFICATION).update(needs_verification=True)


def unload(apps, schema_editor):
    Category = apps.get_model("demands", "Category")
    Category.objects.filter(code__in=GRID_DISPATCH).update(grid_may_dispatch=False)
    Category.objects.filter(code__in=NEEDS_VERIFICATION).update(needs_verification=False)


class Migration(migrations.Migration):
    dependencies = [("demands", "0008_case_rules")]
    operations = [migrations.RunPython(load, unload)]
