"""Factories for one-stop tests (and the scope walk): plain `make_<thing>(**overrides)` functions."""

from __future__ import annotations

import itertools
from typing import Any

from wangge.accounts.models import Role
from wangge.onestop import services
from wangge.onestop.models import Application, HandleLevel, Material, ServiceBundle, ServiceItem
from wangge.registry.models import Area, Department, Level
from wangge.registry.testing import make_user

_seq = itertools.count(1)

# Valid checksums (GB 11643): used by every test that needs an ID number.
GOOD_ID = "430181199003150018"
OTHER_ID = "430181198805210022"
GOOD_USCC = "91350100M000100Y43"


def make_material(**overrides: Any) -> Material:
    n = next(_seq)
    data: dict[str, Any] = {"code": f"TM{n:04d}", "name": f"材料{n}", "kind": "original"}
    data.update(overrides)
    return services.material_create(**data)


def make_item(*, department: Department, **overrides: Any) -> ServiceItem:
    n = next(_seq)
    data: dict[str, Any] = {
        "code": f"TI{n:04d}",
        "name": f"事项{n}",
        "handle_level": HandleLevel.TOWN,
        "time_limit_days": 1,
        "form_fields": ["applicant_name", "id_number", "phone"],
    }
    data.update(overrides)
    return services.service_item_create(department=department, **data)


def make_bundle(*, items: list[ServiceItem], **overrides: Any) -> ServiceBundle:
    n = next(_seq)
    data: dict[str, Any] = {"code": f"TB{n:04d}", "name": f"一件事{n}"}
    data.update(overrides)
    return services.service_bundle_create(items=items, **data)


def make_window_user(point: Area) -> Any:
    role = Role.VILLAGE if point.level == Level.VILLAGE else Role.TOWN
    return make_user(role=role, areas=[point])


def applicant_facts(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"applicant_name": "刘思远", "id_number": GOOD_ID, "phone": "13907310001"}
    data.update(overrides)
    return data


def make_application(
    *,
    point: Area,
    department: Department,
    applicant_name: str = "刘思远",
    submit: bool = True,
    user: Any = None,
) -> Application:
    """An application at `point` for a one-item village bundle of `department` (submitted by default)."""
    bundle = ServiceBundle.objects.filter(code=f"TV-{department.code}").first()
    if bundle is None:
        material = make_material(name="申请人居民身份证")
        item = make_item(
            department=department,
            name=f"{department.name}村级事项",
            handle_level=HandleLevel.VILLAGE,
            village_ok=True,
            materials=[material],
        )
        bundle = make_bundle(items=[item], code=f"TV-{department.code}", name=f"{department.name}一件事")
    user = user or make_window_user(point)
    app = services.application_create(
        user=user,
        bundle=bundle,
        point=point,
        facts=applicant_facts(applicant_name=applicant_name),
        materials_received=[m.pk for bi in bundle.bundle_items.all() for m in bi.item.materials.all()],
    )
    if submit:
        services.application_verify_identity(user=user, application=app, method="id_card_reader")
        services.application_submit(user=user, application=app)
    return app
