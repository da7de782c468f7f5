"""Seed the county calendar with every year the chinesecalendar package knows (2004–2026 in 1.11.0),
so counting is unchanged for those years; later years are entered from the State Council's notice.

`load` is also called by the root conftest after a transactional test flushed the tables.
"""

from django.db import migrations
from django.utils import timezone

# The package names festivals in English; the county's calendar names them as the notice does.
NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def load(apps, schema_editor):
    from importlib.metadata import version

    from chinese_calendar import constants

    CalendarYear = apps.get_model("holidays", "CalendarYear")
    CalendarDay = apps.get_model("holidays", "CalendarDay")
    days = [(d, "holiday", name) for d, name in constants.holidays.items()]
    days += [(d, "workday", name) for d, name in constants.workdays.items()]
    years = sorted({d.year for d, _kind, _name in days})
    have = set(CalendarYear.objects.filter(year__in=years).values_list("year", flat=True))
    now = timezone.now()
    CalendarYear.objects.bulk_create(
        [
            CalendarYear(year=y, source="package", note=f"chinesecalendar {version('chinesecalendar')}", updated_at=now)
            for y in years
            if y not in have
        ]
    )
    CalendarDay.objects.bulk_create(
        [
            CalendarDay(date=d, kind=kind, name=NAMES.get(str(name), str(name)), year=d.year)
            for d, kind, name in sorted(days)
            if d.year not in have
        ]
    )


def unload(apps, schema_editor):
    CalendarYear = apps.get_model("holidays", "CalendarYear")
    package_years = CalendarYear.objects.filter(source="package").values_list("year", flat=True)
    apps.get_model("holidays", "CalendarDay").objects.filter(year__in=list(package_years)).delete()
    CalendarYear.objects.filter(source="package").delete()


class Migration(migrations.Migration):
    dependencies = [("holidays", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
