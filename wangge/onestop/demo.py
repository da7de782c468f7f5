"""Demo data for one-stop services: the item catalogue (44 items at village points), the bundles, a few applications.

`seed(city_area)` is the hook for `seed_demo`; `manage.py seed_onestop` calls it on its own. The
catalogue follows the shape of Hunan's lists (一件事一次办, DB43/T 1799-2020); names are the
common ones, limits and fees are typical values, not any county's official figures.
Everything goes through the services, and a second run changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from wangge.accounts.models import Role, User
from wangge.accounts.services import user_create
from wangge.onestop import services
from wangge.onestop.models import Application, HandleLevel, Material, ServiceBundle, ServiceItem
from wangge.registry.models import Area, Department, Level

DEMO_PASSWORD = "wangge-demo-2026"  # the same demo password as accounts' demo logins

AIP = ("applicant_name", "id_number", "phone")  # the applicant, asked by nearly every item
A, P = "applicant_name", "phone"

# code, name, original|copy, copies, may follow later (容缺), description
MATERIALS: list[tuple[str, str, str, int, bool, str]] = [
    ("M01", "申请人居民身份证", "original", 1, False, "窗口读卡核验后当场退还"),
    ("M02", "公司登记（备案）申请书", "original", 1, False, "一窗通系统填写后打印签字"),
    ("M03", "公司章程", "original", 1, False, "全体股东签字"),
    ("M04", "住所（经营场所）使用证明", "copy", 1, True, "房产证或租赁合同；可容缺，承诺 5 个工作日内补交"),
    ("M05", "营业执照", "copy", 1, False, "加盖公章"),
    ("M06", "企业印章", "original", 1, False, "公章、财务专用章"),
    ("M07", "银行开户申请书", "original", 1, False, "银行窗口提供"),
    ("M08", "出生医学证明", "original", 1, False, "助产机构签发"),
    ("M09", "户口簿", "original", 1, False, ""),
    ("M10", "父母结婚证", "copy", 1, True, "可容缺，承诺后补"),
    ("M11", "新生儿免冠照片", "original", 1, True, "社保卡制卡用，可后补"),
    ("M12", "职工档案", "original", 1, False, "含招工、工资、调动材料"),
    ("M13", "退休审批表", "original", 1, False, "人社部门出具"),
    ("M14", "本人银行卡或社保卡", "copy", 1, False, "用于养老金、公积金发放"),
    ("M15", "不动产权证书", "original", 1, False, ""),
    ("M16", "存量房买卖合同", "original", 1, False, "网签备案合同"),
    ("M17", "契税完税凭证", "original", 1, False, "税务部门出具"),
    ("M18", "水电户号缴费单据", "copy", 1, True, "可容缺，过户前补交"),
    ("M19", "残疾人证申请表", "original", 1, False, ""),
    ("M20", "二代残疾人证", "original", 1, False, "残联核发"),
    ("M21", "近期两寸免冠照片", "original", 2, False, ""),
    ("M22", "残疾评定或医院诊断证明", "original", 1, False, "指定医院出具"),
    ("M23", "低保或特困证明", "copy", 1, True, "可容缺，由民政部门内部核查"),
    ("M24", "食品经营许可申请书", "original", 1, False, ""),
    ("M25", "食品安全管理制度", "original", 1, False, ""),
    ("M26", "招牌设计效果图", "copy", 1, False, ""),
    ("M27", "住房公积金提取申请表", "original", 1, False, ""),
    ("M30", "事项申请表", "original", 1, False, "窗口提供或扫码填写"),
]

# name of the department as the city calls it
DEPARTMENTS = [
    "市场监管局",
    "公安局",
    "税务局",
    "人社局",
    "浏阳农商银行",
    "卫健局",
    "医保局",
    "住房公积金中心",
    "自然资源局",
    "供电公司",
    "水务局",
    "残联",
    "民政局",
    "城管局",
    "消防救援大队",
    "农业农村局",
    "住建局",
    "退役军人事务局",
    "司法局",
    "交通运输局",
    "教育局",
]


@dataclass(frozen=True)
class ItemRow:
    code: str
    name: str
    department: str
    level: str
    days: int
    materials: tuple[str, ...]
    facts: tuple[str, ...]
    fee_fen: int = 0
    produces: str = ""
    village_ok: bool = False


T, V, C = HandleLevel.TOWN, HandleLevel.VILLAGE, HandleLevel.CITY
COMPANY = ("company_name", "registered_address")

ITEMS: list[ItemRow] = [
    # 开办企业: five departments, one window
    ItemRow("QY01", "企业设立登记", "市场监管局", T, 1, ("M01", "M02", "M03", "M04"),
            (*AIP, *COMPANY, "business_scope", "registered_capital"), produces="M05"),
    ItemRow("QY02", "公章刻制备案", "公安局", T, 1, ("M01", "M05"), (*AIP, "company_name"), produces="M06"),
    ItemRow("QY03", "发票申领（新办纳税人套餐）", "税务局", T, 1, ("M01", "M05"), (*AIP, *COMPANY, "invoice_kind")),
    ItemRow("QY04", "单位社会保险参保登记", "人社局", T, 0, ("M05",), (P, *COMPANY, "employees")),
    ItemRow("QY05", "企业银行开户", "浏阳农商银行", T, 1, ("M01", "M05", "M06", "M07"), (*AIP, "company_name", "bank")),
    # 新生儿出生
    ItemRow("CS01", "出生医学证明办理", "卫健局", T, 0, ("M01",),
            (*AIP, "child_name", "birth_date", "birth_hospital", "mother_name", "mother_id_number",
             "father_name", "father_id_number"), produces="M08"),
    ItemRow("CS02", "出生户口登记", "公安局", T, 1, ("M01", "M08", "M09", "M10"),
            (*AIP, "child_name", "birth_date", "household_address", "mother_name", "father_name")),
    ItemRow("CS03", "新生儿城乡居民医保参保登记", "医保局", V, 0, ("M09",),
            (P, "child_name", "birth_date", "household_address"), village_ok=True),
    ItemRow("CS04", "新生儿社会保障卡申领", "人社局", V, 5, ("M11",), (A, P, "child_name"), village_ok=True),
    ItemRow("CS05", "预防接种证办理", "卫健局", V, 0, ("M08",), (P, "child_name", "birth_date"), village_ok=True),
    # 退休
    ItemRow("TX01", "职工正常退休审批", "人社局", T, 10, ("M01", "M12"), (*AIP, "employer", "retire_date"),
            produces="M13"),
    ItemRow("TX02", "基本养老金待遇核定", "人社局", T, 5, ("M01", "M13", "M14"), (*AIP, "bank_account")),
    ItemRow("TX03", "退休人员医保待遇变更", "医保局", T, 5, ("M13",), (A, "id_number", "employer")),
    ItemRow("TX04", "住房公积金退休提取", "住房公积金中心", T, 3, ("M01", "M13", "M14", "M27"), (*AIP, "bank_account")),
    # 二手房转移登记
    ItemRow("FC01", "存量房交易税费申报", "税务局", T, 1, ("M01", "M15", "M16"),
            (*AIP, "house_address", "property_cert_no", "seller_name", "seller_id_number", "price"), produces="M17"),
    ItemRow("FC02", "存量房转移登记", "自然资源局", T, 3, ("M01", "M15", "M16", "M17"),
            (*AIP, "house_address", "property_cert_no", "seller_name", "seller_id_number", "price"), fee_fen=8000),
    ItemRow("FC03", "居民用电过户", "供电公司", T, 1, ("M18",), (A, P, "house_address")),
    ItemRow("FC04", "居民用水过户", "水务局", T, 1, ("M18",), (A, P, "house_address")),
    # 残疾人服务 (every item at village points)
    ItemRow("CJ01", "残疾人证申领", "残联", V, 15, ("M01", "M09", "M19", "M21", "M22"),
            (*AIP, "household_address", "disability_kind", "disability_grade"), produces="M20", village_ok=True),
    ItemRow("CJ02", "困难残疾人生活补贴申请", "民政局", V, 10, ("M01", "M20", "M23"),
            (*AIP, "bank_account", "disability_kind"), village_ok=True),
    ItemRow("CJ03", "重度残疾人护理补贴申请", "民政局", V, 10, ("M01", "M20"),
            (*AIP, "bank_account", "disability_grade"), village_ok=True),
    # 开办餐饮店
    ItemRow("CY01", "食品经营许可（告知承诺）", "市场监管局", T, 1, ("M01", "M05", "M24", "M25"),
            (*AIP, *COMPANY, "credit_code", "food_category")),
    ItemRow("CY02", "户外招牌设置备案", "城管局", T, 1, ("M05", "M26"), (P, *COMPANY, "credit_code")),
    ItemRow("CY03", "公众聚集场所投入使用前消防安全检查（告知承诺）", "消防救援大队", T, 1, ("M05",),
            (P, *COMPANY, "credit_code")),
    # City-level items: only the city hall takes them.
    ItemRow("SJ01", "建设工程规划许可", "自然资源局", C, 20, ("M01", "M30"), (*AIP, "company_name", "credit_code")),
    ItemRow("SJ02", "道路货物运输经营许可", "交通运输局", C, 20, ("M01", "M05", "M30"),
            (*AIP, "company_name", "credit_code")),
    ItemRow("SJ03", "民办学校办学许可", "教育局", C, 30, ("M01", "M30"), (*AIP, "company_name")),
]  # fmt: skip

# The 38 village items besides those in the bundles above: 44 village items in all.
VILLAGE_ITEMS: list[tuple[str, str, int, tuple[str, ...]]] = [
    ("城乡居民基本养老保险参保登记", "人社局", 0, ("household_address",)),
    ("城乡居民养老保险待遇申领", "人社局", 5, ("bank_account",)),
    ("养老保险待遇领取资格认证", "人社局", 0, ()),
    ("社会保障卡挂失与补换", "人社局", 5, ()),
    ("就业登记", "人社局", 0, ("employer",)),
    ("失业登记", "人社局", 0, ("household_address",)),
    ("就业困难人员认定申请", "人社局", 10, ("household_address",)),
    ("职业技能培训报名", "人社局", 0, ()),
    ("城乡居民医保参保登记", "医保局", 0, ("household_address",)),
    ("城乡居民医保缴费", "医保局", 0, ()),
    ("门诊慢特病待遇认定申请", "医保局", 10, ()),
    ("医疗费用零星报销申请", "医保局", 15, ("bank_account",)),
    ("最低生活保障申请", "民政局", 30, ("household_address", "bank_account")),
    ("特困人员救助供养申请", "民政局", 20, ("household_address", "bank_account")),
    ("临时救助申请", "民政局", 10, ("household_address", "bank_account")),
    ("高龄津贴申领", "民政局", 10, ("bank_account",)),
    ("孤儿基本生活费申请", "民政局", 20, ("household_address", "bank_account")),
    ("惠民殡葬补贴申请", "民政局", 5, ("bank_account",)),
    ("老年人优待证办理", "民政局", 0, ()),
    ("留守儿童关爱服务登记", "民政局", 0, ("household_address", "child_name")),
    ("计划生育家庭特别扶助金申请", "卫健局", 20, ("bank_account",)),
    ("农村部分计划生育家庭奖励扶助申请", "卫健局", 20, ("bank_account",)),
    ("生育登记", "卫健局", 0, ("household_address",)),
    ("家庭医生签约", "卫健局", 0, ("household_address",)),
    ("耕地地力保护补贴申报", "农业农村局", 10, ("bank_account",)),
    ("农村宅基地和建房申请（村级初审）", "农业农村局", 10, ("household_address",)),
    ("农机购置补贴申请", "农业农村局", 15, ("bank_account",)),
    ("土地承包经营权流转备案", "农业农村局", 5, ("household_address",)),
    ("农村危房改造申请", "住建局", 20, ("household_address", "bank_account")),
    ("居住证申领（受理）", "公安局", 10, ("household_address",)),
    ("户籍证明开具", "公安局", 0, ("household_address",)),
    ("退役军人优待证申领", "退役军人事务局", 20, ()),
    ("优抚对象抚恤补助申请", "退役军人事务局", 10, ("bank_account",)),
    ("法律援助申请", "司法局", 7, ("household_address",)),
    ("人民调解申请", "司法局", 0, ("household_address",)),
    ("残疾人辅助器具适配申请", "残联", 15, ("disability_kind",)),
    ("林木采伐许可（村级初审）", "自然资源局", 5, ("household_address",)),
    ("居民用电报装", "供电公司", 3, ("household_address",)),
]
assert len(VILLAGE_ITEMS) + sum(1 for r in ITEMS if r.village_ok) == 44

# code, name, description, item codes in order, promise (materials, steps, days, fee in fen)
BUNDLES: list[tuple[str, str, str, tuple[str, ...], tuple[int, int, int, int]]] = [
    ("KBQY", "开办企业", "营业执照、公章、发票、社保登记、银行开户一窗办结（“6310”）",
     ("QY01", "QY02", "QY03", "QY04", "QY05"), (6, 3, 1, 0)),
    ("XSR", "新生儿出生", "出生医学证明、户口登记、医保参保、社保卡、预防接种证一次办",
     ("CS01", "CS02", "CS03", "CS04", "CS05"), (4, 3, 5, 0)),
    ("TX", "退休", "退休审批、养老金核定、医保变更、公积金提取一次办", ("TX01", "TX02", "TX03", "TX04"), (4, 3, 10, 0)),
    ("ESF", "二手房转移登记", "交易税费、不动产转移登记、水电过户一窗联办",
     ("FC01", "FC02", "FC03", "FC04"), (4, 3, 3, 8000)),
    ("CJR", "残疾人服务", "残疾人证与两项补贴在村（社区）便民服务点一次申请",
     ("CJ01", "CJ02", "CJ03"), (6, 3, 15, 0)),
    ("CYD", "开办餐饮店", "食品经营许可、招牌备案、消防检查告知承诺一次办",
     ("CY01", "CY02", "CY03"), (5, 3, 1, 0)),
]  # fmt: skip


def _department(city: Area, name: str, n: int) -> Department:
    found = Department.objects.filter(area=city, name=name).first()
    if found:
        return found
    from wangge.registry.services import department_create

    code = f"{city.code}-OS{n:02d}"
    return Department.objects.filter(code=code).first() or department_create(code=code, name=name, city=city)


@transaction.atomic
def seed_catalogue(city: Area) -> dict[str, int]:
    """Materials, items (44 at village points) and bundles; existing codes are left as they are."""
    departments = {name: _department(city, name, i) for i, name in enumerate(DEPARTMENTS, start=1)}
    materials = {m.code: m for m in Material.objects.all()}
    for code, name, kind, count, deferrable, description in MATERIALS:
        if code not in materials:
            materials[code] = services.material_create(
                code=code, name=name, kind=kind, count=count, deferrable=deferrable, description=description
            )
    existing = set(ServiceItem.objects.values_list("code", flat=True))
    rows = list(ITEMS) + [
        ItemRow(f"CJ{n:02d}", name, dept, V, days, ("M01", "M30"), (*AIP, *facts), village_ok=True)
        for n, (name, dept, days, facts) in enumerate(VILLAGE_ITEMS, start=10)
    ]
    for row in rows:
        if row.code in existing:
            continue
        services.service_item_create(
            code=row.code,
            name=row.name,
            department=departments[row.department],
            handle_level=row.level,
            time_limit_days=row.days,
            fee_fen=row.fee_fen,
            village_ok=row.village_ok,
            materials=[materials[c] for c in row.materials],
            form_fields=list(row.facts),
            produces=materials[row.produces] if row.produces else None,
        )
    items = {i.code: i for i in ServiceItem.objects.all()}
    for n, (code, name, description, codes, promise) in enumerate(BUNDLES):
        if ServiceBundle.objects.filter(code=code).exists():
            continue
        services.service_bundle_create(
            code=code,
            name=name,
            description=description,
            items=[items[c] for c in codes],
            promised_materials=promise[0],
            promised_steps=promise[1],
            promised_days=promise[2],
            promised_fee_fen=promise[3],
            ordering=n,
        )
    return {
        "materials": Material.objects.count(),
        "items": ServiceItem.objects.count(),
        "village_items": ServiceItem.objects.filter(village_ok=True).count(),
        "bundles": ServiceBundle.objects.count(),
    }


def _user(username: str, **kw: Any) -> User:
    user = User.objects.filter(username=username).first()
    return user or user_create(username=username, password=DEMO_PASSWORD, **kw)


BUSINESS_FACTS = {
    "applicant_name": "刘思远",
    "id_number": "430181199003150018",
    "phone": "13907310001",
    "company_name": "浏阳市金沙烟花文创有限公司",
    "registered_address": "浏阳市集里街道金沙北路 88 号",
    "business_scope": "文化创意设计；工艺品销售",
    "registered_capital": "50",
    "invoice_kind": "增值税普通发票",
    "employees": "6",
    "bank": "浏阳农商银行集里支行",
}


@transaction.atomic
def seed_applications(city: Area) -> int:
    """A few applications at the first town and village: issued, in progress, returned, draft."""
    if Application.objects.exists():
        return 0
    town = Area.objects.filter(level=Level.TOWN, path__startswith=city.path).order_by("path").first()
    if town is None:
        return 0
    village = Area.objects.filter(level=Level.VILLAGE, path__startswith=town.path).order_by("path").first()
    window = _user("demo_yjs_window", role=Role.TOWN, display_name="欧阳敏（便民服务中心窗口）", areas=[town])
    bundles = {b.code: b for b in ServiceBundle.objects.all()}
    business = bundles["KBQY"]
    dept_ids = sorted({bi.item.department_id for bi in business.bundle_items.select_related("item")})
    dept_user = _user(
        "demo_yjs_dept",
        role=Role.DEPARTMENT,
        display_name="黎志刚（开办企业联办部门）",
        departments=list(Department.objects.filter(pk__in=dept_ids)),
    )
    materials = [m.pk for m in Material.objects.filter(code__in=["M01", "M02", "M03", "M04", "M07"])]

    def business_app(name: str, company: str, phone: str, id_number: str) -> Application:
        facts = {
            **BUSINESS_FACTS,
            "applicant_name": name,
            "company_name": company,
            "phone": phone,
            "id_number": id_number,
        }
        app = services.application_create(
            user=window, bundle=business, point=town, facts=facts, materials_received=materials
        )
        services.application_verify_identity(user=window, application=app, method="id_card_reader")
        return services.application_submit(user=window, application=app)

    issued = business_app("刘思远", "浏阳市金沙烟花文创有限公司", "13907310001", "430181199003150018")
    for task in issued.tasks.all():
        services.task_accept(user=dept_user, task=task)
        services.task_complete(user=dept_user, task=task, result="已办结", certificate_number=f"{task.item.code}-0001")
    issued.refresh_from_db()  # the departments' moves changed its state and version
    services.application_issue(user=window, application=issued)
    going = business_app("彭雅琴", "浏阳市雅琴茶业有限公司", "13907310002", "430181198805210022")
    first = going.tasks.order_by("position").first()
    assert first is not None
    services.task_accept(user=dept_user, task=first)
    services.task_complete(user=dept_user, task=first, result="营业执照已核发", certificate_number="91430181MA4T0001")
    if village is not None:
        village_window = _user(
            "demo_yjs_village", role=Role.VILLAGE, display_name="汤丽（村便民服务点代办员）", areas=[village]
        )
        services.application_create(
            user=village_window,
            bundle=bundles["CJR"],
            point=village,
            facts={"applicant_name": "罗桂兰", "id_number": "430181196511230029", "phone": "13907310003"},
        )
    return Application.objects.count()


def seed(city_area: Area) -> dict[str, int]:
    """The hook for seed_demo: the catalogue, then a few applications in the city's first town."""
    counts = seed_catalogue(city_area)
    counts["applications"] = seed_applications(city_area)
    return counts
