"""Applications: one acceptance, departments in parallel, one issuance; the window's and departments' rules."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from wangge.accounts.models import Role
from wangge.core.errors import Conflict, PermissionDenied, ValidationFailed
from wangge.core.masking import decrypt, lookup_hash
from wangge.onestop import services
from wangge.onestop.demo import BUSINESS_FACTS, seed_catalogue
from wangge.onestop.figures import bundle_items, combined_materials
from wangge.onestop.models import Application, AppState, Material, ServiceBundle, TaskState
from wangge.onestop.testing import GOOD_ID, applicant_facts, make_application, make_bundle, make_item
from wangge.registry.testing import make_user

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def business(tree: Any) -> ServiceBundle:
    seed_catalogue(tree.city)
    return ServiceBundle.objects.get(code="KBQY")


@pytest.fixture
def window(personas: Any) -> Any:
    return personas[Role.TOWN]


def _dept_user(bundle: ServiceBundle) -> Any:
    departments = list({bi.item.department for bi in bundle.bundle_items.select_related("item__department")})
    return make_user(role=Role.DEPARTMENT, departments=departments)


def _material_ids(bundle: ServiceBundle) -> list[int]:
    return [m.pk for m in combined_materials(bundle_items(bundle))]


def _accepted(window: Any, bundle: ServiceBundle, point: Any, **facts: Any) -> Application:
    app = services.application_create(
        user=window,
        bundle=bundle,
        point=point,
        facts={**BUSINESS_FACTS, **facts},
        materials_received=_material_ids(bundle),
    )
    services.application_verify_identity(
        user=window, application=app, method="id_card_reader", id_number_read=BUSINESS_FACTS["id_number"]
    )
    return services.application_submit(user=window, application=app)


def test_an_accepted_application_sends_every_department_its_part_at_once(tree: Any, business: Any, window: Any) -> None:
    with time_machine.travel(dt.datetime(2026, 3, 9, 9, 0, tzinfo=SH), tick=False):
        app = _accepted(window, business, tree.town)
    assert app.state == AppState.SUBMITTED
    tasks = list(app.tasks.select_related("item", "department").order_by("position"))
    assert [t.item.code for t in tasks] == ["QY01", "QY02", "QY03", "QY04", "QY05"]
    assert all(t.state == TaskState.PENDING for t in tasks)
    assert len({t.department_id for t in tasks}) == 5
    # One working day: Monday's application is due at the close of Tuesday.
    assert app.limit_days == 1
    assert app.due_at == dt.datetime(2026, 3, 10, 17, 30, tzinfo=SH)
    # The ID is kept encrypted with a lookup hash; the facts are stored once.
    assert decrypt(app.applicant_id_enc) == BUSINESS_FACTS["id_number"]
    assert BUSINESS_FACTS["id_number"] not in app.applicant_id_enc
    assert app.applicant_id_hash == lookup_hash(BUSINESS_FACTS["id_number"])
    assert app.facts["company_name"] == BUSINESS_FACTS["company_name"]


def test_departments_work_in_parallel_and_results_are_issued_together(tree: Any, business: Any, window: Any) -> None:
    staff = _dept_user(business)
    with time_machine.travel(dt.datetime(2026, 3, 9, 9, 0, tzinfo=SH), tick=False) as clock:
        app = _accepted(window, business, tree.town)
        tasks = list(app.tasks.order_by("-position"))  # any order: nobody waits for anyone
        for task in tasks[:-1]:
            services.task_accept(user=staff, task=task)
            services.task_complete(user=staff, task=task, certificate_number="C-" + task.item.code)
        app.refresh_from_db()
        assert app.state == AppState.IN_PROGRESS
        with pytest.raises(ValidationFailed) as refused:
            services.application_issue(user=window, application=app)
        assert refused.value.field == "tasks"
        assert "企业设立登记" in refused.value.zh and "not every department is done" in refused.value.en
        last = tasks[-1]
        services.task_accept(user=staff, task=last)
        services.task_complete(user=staff, task=last, result="营业执照已核发", certificate_number="91430181MA4T0001")
        clock.move_to(dt.datetime(2026, 3, 9, 15, 0, tzinfo=SH))
        app.refresh_from_db()
        services.application_issue(user=window, application=app)
    assert app.state == AppState.ISSUED
    assert app.elapsed_days == pytest.approx(6 / 9, abs=0.001)  # 09:00 to 15:00 of a 9-hour working day
    assert app.issued_at <= app.due_at


def test_two_staff_completing_one_task_give_one_winner(tree: Any, business: Any, window: Any) -> None:
    first, second = _dept_user(business), _dept_user(business)
    app = _accepted(window, business, tree.town)
    task = app.tasks.get(item__code="QY02")
    services.task_accept(user=first, task=task)
    mine = type(task).objects.get(pk=task.pk)
    theirs = type(task).objects.get(pk=task.pk)
    services.task_complete(user=first, task=mine, certificate_number="A-1")
    with pytest.raises(Conflict):
        services.task_complete(user=second, task=theirs, certificate_number="B-2")
    task.refresh_from_db()
    assert task.certificate_number == "A-1" and task.completed_by == first


def test_department_staff_handle_only_their_own_department(tree: Any, business: Any, window: Any) -> None:
    app = _accepted(window, business, tree.town)
    police = app.tasks.get(item__code="QY02")
    tax_staff = make_user(role=Role.DEPARTMENT, departments=[app.tasks.get(item__code="QY03").department])
    with pytest.raises(PermissionDenied):
        services.task_accept(user=tax_staff, task=police)
    with pytest.raises(PermissionDenied):
        services.task_accept(user=window, task=police)  # the window does not handle a department's part


def test_submit_refuses_naming_each_missing_thing_in_both_languages(tree: Any, business: Any, window: Any) -> None:
    app = services.application_create(user=window, bundle=business, point=tree.town, facts=applicant_facts())
    with pytest.raises(ValidationFailed) as refused:
        services.application_submit(user=window, application=app)
    fields = {p.field for p in refused.value.problems}
    assert {"company_name", "registered_address", "materials_received", "identity_method"} <= fields
    by_field = {p.field: p for p in refused.value.problems}
    assert by_field["company_name"].zh == "企业名称：必须填写"
    assert by_field["company_name"].en == "company name: is required"
    assert by_field["identity_method"].en == "the applicant's identity is not checked"
    app.refresh_from_db()
    assert app.state == AppState.DRAFT and not app.tasks.exists()


def test_a_malformed_fact_is_refused_at_creation_and_nothing_is_written(tree: Any, business: Any, window: Any) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.application_create(
            user=window,
            bundle=business,
            point=tree.town,
            facts={**BUSINESS_FACTS, "id_number": GOOD_ID[:-1] + "9", "registered_capital": "abc"},
        )
    assert [p.field for p in refused.value.problems] == ["id_number", "registered_capital"]
    assert "身份证号码" in refused.value.zh and "ID number" in refused.value.en
    assert not Application.objects.exists()


def test_facts_the_bundle_does_not_ask_are_refused(tree: Any, business: Any, window: Any) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.application_create(
            user=window, bundle=business, point=tree.town, facts={**BUSINESS_FACTS, "seller_name": "王五"}
        )
    assert refused.value.field == "seller_name"


def test_card_reader_number_must_be_the_applicants(tree: Any, business: Any, window: Any) -> None:
    app = services.application_create(user=window, bundle=business, point=tree.town, facts=BUSINESS_FACTS)
    with pytest.raises(ValidationFailed) as refused:
        services.application_verify_identity(
            user=window, application=app, method="id_card_reader", id_number_read="430181198805210022"
        )
    assert refused.value.field == "id_number"


def test_material_to_follow_only_when_deferrable_with_a_promise_and_before_issuance(
    tree: Any, business: Any, window: Any
) -> None:
    address = Material.objects.get(code="M04")  # 住所使用证明: may follow (容缺)
    articles = Material.objects.get(code="M03")  # 公司章程: essential
    received = [pk for pk in _material_ids(business) if pk not in (address.pk, articles.pk)]
    app = services.application_create(
        user=window, bundle=business, point=tree.town, facts=BUSINESS_FACTS, materials_received=received
    )
    services.application_verify_identity(user=window, application=app, method="manual")
    with pytest.raises(ValidationFailed) as refused:
        services.application_submit(user=window, application=app, deferred=[address.pk, articles.pk])
    codes = {p.code for p in refused.value.problems}
    assert codes == {"not_deferrable", "note_required"}
    services.application_update(user=window, application=app, materials_received=[articles.pk])
    services.application_submit(
        user=window, application=app, deferred=[address.pk], deficiency_note="5 个工作日内补交租赁合同"
    )
    assert app.materials_deferred == [address.pk]
    staff = _dept_user(business)
    for task in app.tasks.all():
        services.task_accept(user=staff, task=task)
        services.task_complete(user=staff, task=task, result="ok")
    app.refresh_from_db()
    with pytest.raises(ValidationFailed) as owed:
        services.application_issue(user=window, application=app)
    assert owed.value.field == "materials_deferred" and "住所" in owed.value.zh
    services.application_receive_material(user=window, application=app, material_ids=[address.pk])
    services.application_issue(user=window, application=app)
    assert app.state == AppState.ISSUED


def test_a_return_for_material_goes_back_to_the_window_and_on_again(tree: Any, business: Any, window: Any) -> None:
    staff = _dept_user(business)
    app = _accepted(window, business, tree.town)
    bank = app.tasks.get(item__code="QY05")
    other = app.tasks.get(item__code="QY01")
    services.task_accept(user=staff, task=other)
    with pytest.raises(ValidationFailed) as no_reason:
        services.task_return(user=staff, task=bank, reason=" ")
    assert no_reason.value.field == "return_reason"
    services.task_return(user=staff, task=bank, reason="银行开户申请书未签字")
    app.refresh_from_db()
    assert app.state == AppState.RETURNED
    services.application_resupply(user=window, application=app)
    app.refresh_from_db()
    bank.refresh_from_db()
    assert app.state == AppState.IN_PROGRESS
    assert bank.state == TaskState.PENDING and bank.return_reason == "银行开户申请书未签字"


def test_a_village_point_takes_only_bundles_whose_items_are_all_village_items(
    tree: Any, business: Any, personas: Any
) -> None:
    clerk = personas[Role.VILLAGE]
    with pytest.raises(ValidationFailed) as refused:
        services.application_create(user=clerk, bundle=business, point=tree.village, facts=BUSINESS_FACTS)
    assert refused.value.field == "bundle"
    assert "村级服务点不能受理" in refused.value.zh and "village service point" in refused.value.en
    disability = ServiceBundle.objects.get(code="CJR")
    app = services.application_create(user=clerk, bundle=disability, point=tree.village, facts=applicant_facts())
    assert app.area_path == tree.village.path


def test_a_town_point_cannot_take_a_city_item(tree: Any, window: Any) -> None:
    city_item = make_item(department=tree.department, handle_level="city")
    bundle = make_bundle(items=[city_item])
    with pytest.raises(ValidationFailed) as refused:
        services.application_create(user=window, bundle=bundle, point=tree.town, facts=applicant_facts())
    assert refused.value.code == "level_too_low"


def test_only_window_staff_inside_their_scope_take_applications(tree: Any, business: Any, personas: Any) -> None:
    with pytest.raises(PermissionDenied):  # a village clerk cannot take applications at the town centre
        services.application_create(user=personas[Role.VILLAGE], bundle=business, point=tree.town, facts=BUSINESS_FACTS)
    with pytest.raises(PermissionDenied):  # the outsider's town is another one
        services.application_create(user=personas["outsider"], bundle=business, point=tree.town, facts=BUSINESS_FACTS)
    with pytest.raises(PermissionDenied):  # auditors read only
        services.application_create(user=personas[Role.AUDITOR], bundle=business, point=tree.town, facts=BUSINESS_FACTS)
    with pytest.raises(PermissionDenied):  # grid leaders do not staff a window
        services.application_create(
            user=personas[Role.GRID_LEADER], bundle=business, point=tree.town, facts=BUSINESS_FACTS
        )


def test_moves_out_of_order_are_refused(tree: Any, personas: Any) -> None:
    app = make_application(point=tree.village, department=tree.department, submit=False)
    clerk = personas[Role.VILLAGE]
    with pytest.raises(ValidationFailed):
        services.application_issue(user=clerk, application=app)
    services.application_verify_identity(user=clerk, application=app, method="face")
    services.application_submit(user=clerk, application=app)
    with pytest.raises(ValidationFailed):
        services.application_submit(user=clerk, application=app)
    task = app.tasks.get()
    with pytest.raises(ValidationFailed) as early:
        services.task_complete(user=personas[Role.DEPARTMENT], task=task, result="ok")
    assert early.value.field == "state"


def test_an_item_naming_an_unknown_fact_or_a_village_mark_above_village_is_refused(tree: Any) -> None:
    with pytest.raises(ValidationFailed) as unknown:
        make_item(department=tree.department, form_fields=["applicant_name", "shoe_size"])
    assert unknown.value.field == "form_fields" and "shoe_size" in unknown.value.en
    with pytest.raises(ValidationFailed) as level:
        make_item(department=tree.department, handle_level="town", village_ok=True)
    assert level.value.field == "village_ok"
