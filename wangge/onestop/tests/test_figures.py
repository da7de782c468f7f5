"""Each bundle's 6310 figures are computed from its items; the combined form asks each fact and material once."""

from __future__ import annotations

from typing import Any

import pytest

from wangge.onestop import selectors
from wangge.onestop.demo import seed_catalogue
from wangge.onestop.figures import bundle_figures, combined_fact_keys, combined_materials, figures_for
from wangge.onestop.models import ServiceBundle, ServiceItem
from wangge.onestop.testing import make_bundle, make_item, make_material

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(tree: Any) -> dict[str, ServiceBundle]:
    seed_catalogue(tree.city)
    return {b.code: b for b in selectors.bundle_queryset()}


def test_the_catalogue_marks_44_items_for_village_service_points(catalogue: Any) -> None:
    assert ServiceItem.objects.filter(village_ok=True).count() == 44
    assert not ServiceItem.objects.filter(village_ok=True).exclude(handle_level="village").exists()


def test_opening_a_business_is_6310_computed_from_its_five_items(catalogue: Any) -> None:
    bundle = catalogue["KBQY"]
    departments = {bi.item.department.name for bi in bundle.bundle_items.all()}
    assert departments == {"市场监管局", "公安局", "税务局", "人社局", "浏阳农商银行"}
    figures = bundle_figures(bundle)
    # ID card, application form, articles, address proof, bank form: the licence and the seal
    # are issued inside the bundle, so the seal office and the bank do not ask for them.
    assert figures.materials == 5 <= 6
    assert figures.steps == 3
    assert figures.days == 1
    assert figures.fee_fen == 0
    assert figures.separate_materials > figures.materials


def test_every_demo_bundle_keeps_its_published_promise(catalogue: Any) -> None:
    for view in selectors.bundle_list():
        assert all(view.promise.values()), (view.bundle.code, view.figures, view.promise)


def test_days_are_the_longest_item_and_fees_the_sum(tree: Any) -> None:
    a = make_item(department=tree.department, time_limit_days=3, fee_fen=8000)
    b = make_item(department=tree.other_department, time_limit_days=1, fee_fen=500)
    c = make_item(department=tree.department, time_limit_days=0, fee_fen=0)
    figures = figures_for([a, b, c])
    assert (figures.steps, figures.days, figures.fee_fen) == (3, 3, 8500)


def test_a_fact_needed_by_three_items_is_asked_once(tree: Any) -> None:
    id_card = make_material(name="身份证")
    lease = make_material(name="租赁合同")
    items = [
        make_item(department=tree.department, form_fields=["company_name", "phone"], materials=[id_card]),
        make_item(department=tree.other_department, form_fields=["company_name", "bank"], materials=[id_card, lease]),
        make_item(department=tree.department, form_fields=["company_name", "employees"], materials=[id_card]),
    ]
    bundle = make_bundle(items=items)
    keys = combined_fact_keys(items)
    assert keys.count("company_name") == 1
    assert keys == ["applicant_name", "id_number", "phone", "company_name", "employees", "bank"]
    assert combined_materials(items) == [id_card, lease]
    assert bundle_figures(bundle).materials == 2
    # The form page renders each fact input once.
    view = selectors.bundle_get(pk=bundle.pk)
    assert [f.key for f in view.facts] == keys


def test_a_result_issued_inside_the_bundle_is_not_asked_of_the_applicant(tree: Any) -> None:
    licence = make_material(name="营业执照")
    form = make_material(name="申请书")
    register = make_item(department=tree.department, materials=[form], produces=licence)
    seal = make_item(department=tree.other_department, materials=[licence])
    assert combined_materials([register, seal]) == [form]
    # On its own, the seal item does ask for the licence.
    assert combined_materials([seal]) == [licence]
