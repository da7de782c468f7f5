"""Inspections: every item judged, a failure files one demand routed like any other, a repeat reuses it."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from wangge.accounts.models import Role
from wangge.core.errors import PermissionDenied, ValidationFailed
from wangge.demands.models import Demand, DemandComment, State
from wangge.demands.selectors import my_queue
from wangge.demands.services import demand_accept, demand_resolve
from wangge.facilities import services
from wangge.facilities.models import (
    DirectorLevel,
    FacilityDirector,
    FacilityType,
    Inspection,
    InspectionPhoto,
    Result,
)
from wangge.facilities.testing import (
    jpeg,
    make_director,
    make_director_user,
    make_facility,
    make_inspection,
    results_with,
)
from wangge.registry.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def toilet(tree: Any) -> Any:
    return make_facility(area=tree.grid, name="金沙路公厕", department=tree.department)


@pytest.fixture
def staff(toilet: Any) -> FacilityDirector:
    """The sanitation staff director, an account of the town (环卫所)."""
    return make_director_user(facility=toilet, level=DirectorLevel.SANITATION_STAFF, name="周环卫")


def test_a_passed_inspection_files_nothing(staff: Any) -> None:
    inspection = make_inspection(director=staff)
    assert inspection.result == Result.PASS
    assert inspection.items.count() == 8
    assert not inspection.items.filter(passed=False).exists()
    assert Demand.objects.count() == 0


def test_a_failed_item_becomes_a_demand_in_the_grid_leaders_queue(toilet: Any, staff: Any, personas: Any) -> None:
    inspection = make_inspection(director=staff, failed={"handwash": "洗手设施损坏"})
    assert inspection.result == Result.FAIL
    item = inspection.items.get(passed=False)
    demand = item.demand
    assert demand is not None and item.raised_demand
    assert demand.channel == "inspection"
    assert demand.category.code == "0302"
    assert demand.title == "公厕「金沙路公厕」巡查不合格：洗手设施完好（洗手设施损坏）"
    assert "周环卫" in demand.description and toilet.code in demand.description
    # Written in Chinese from the catalogue, whatever the language of the page that recorded it.
    assert demand.description.endswith(
        f"巡查公厕「金沙路公厕」（编号 {toilet.code}，{toilet.address}），检查项「洗手设施完好」不合格。洗手设施损坏"
    )
    assert demand.area == toilet.area and demand.holder_area == toilet.area
    assert demand.created_by == staff.user
    assert demand.state == State.SUBMITTED
    assert list(my_queue(user=personas[Role.GRID_LEADER])) == [demand]
    # Only the failed item filed anything.
    assert Demand.objects.count() == 1


def test_two_failed_items_file_two_demands(staff: Any) -> None:
    inspection = make_inspection(director=staff, failed={"floor": "积水", "lighting": "灯坏"})
    demands = {i.demand_id for i in inspection.items.filter(passed=False)}
    assert len(demands) == 2 and None not in demands


def test_a_repeat_failure_comments_on_the_open_demand_instead_of_filing_another(staff: Any) -> None:
    first = make_inspection(director=staff, failed={"handwash": "水龙头坏"})
    demand = first.items.get(passed=False).demand
    second = make_inspection(director=staff, failed={"handwash": "仍未修好"})
    item = second.items.get(passed=False)
    assert item.demand == demand and item.demand_reused and not item.raised_demand
    assert Demand.objects.count() == 1
    comment = DemandComment.objects.get(demand=demand)
    assert "复查仍不合格" in comment.body and "仍未修好" in comment.body
    assert comment.author == staff.user


def test_a_pass_while_the_demand_is_open_is_noted_and_a_failure_after_resolving_files_anew(
    staff: Any, personas: Any
) -> None:
    demand = make_inspection(director=staff, failed={"odour": "异味重"}).items.get(passed=False).demand
    passed = make_inspection(director=staff)
    item = passed.items.get(checklist_item__code="odour")
    assert item.passed and item.demand == demand and item.demand_reused
    assert demand.code in passed.note
    assert passed.result == Result.PASS
    leader = personas[Role.GRID_LEADER]
    demand_accept(demand=demand, actor=leader)
    demand_resolve(demand=demand, actor=leader, result="已通风除臭")
    again = make_inspection(director=staff, failed={"odour": "又有异味"})
    new = again.items.get(passed=False).demand
    assert new != demand and Demand.objects.count() == 2


def test_every_item_needs_a_result_and_nothing_is_written_otherwise(toilet: Any, staff: Any) -> None:
    results = results_with(toilet)[:-1]
    with pytest.raises(ValidationFailed) as err:
        services.inspection_record(facility=toilet, actor=staff.user, results=results)
    assert err.value.field == "items" and "管理制度上墙" in err.value.zh
    with pytest.raises(ValidationFailed):
        services.inspection_record(
            facility=toilet, actor=staff.user, results=[*results_with(toilet), {"code": "nope", "passed": True}]
        )
    assert Inspection.objects.count() == 0


def test_only_directors_record_and_staff_record_for_a_director_without_an_account(
    tree: Any, toilet: Any, staff: Any, personas: Any
) -> None:
    with pytest.raises(PermissionDenied):
        services.inspection_record(facility=toilet, actor=personas[Role.GRID_LEADER], results=results_with(toilet))
    cleaner = make_director(facility=toilet, level=DirectorLevel.CLEANER, name="李保洁", phone="13911112222")
    # Staff of the town may enter the named cleaner's daily check...
    town = personas[Role.TOWN]
    inspection = make_inspection(director=cleaner, actor=town, failed={"supplies": "厕纸用完"})
    assert inspection.director == cleaner and inspection.recorded_by == town
    # ...but nobody records in the name of a director who has an account of their own.
    with pytest.raises(PermissionDenied):
        make_inspection(director=staff, actor=town)
    with pytest.raises(PermissionDenied):
        make_inspection(director=cleaner, actor=personas[Role.AUDITOR])
    # Staff of another town may not either.
    with pytest.raises(PermissionDenied):
        make_inspection(director=cleaner, actor=personas["outsider"])


def test_a_department_leader_files_the_demand_though_the_grid_is_not_in_their_scope(
    tree: Any, toilet: Any, personas: Any
) -> None:
    leader = make_user(role=Role.DEPARTMENT, departments=[tree.department], display_name="王局长")
    director = make_director(facility=toilet, level=DirectorLevel.BUREAU_LEADER, user=leader)
    demand = make_inspection(director=director, failed={"accessible": "扶手松动"}).items.get(passed=False).demand
    assert demand.area == toilet.area
    # A repeat by someone who cannot open the demand still files nothing new; the inspection says why.
    again = make_inspection(director=director, failed={"accessible": "仍松动"})
    assert again.items.get(passed=False).demand == demand
    assert Demand.objects.count() == 1
    assert demand.code in again.note and not DemandComment.objects.exists()


def test_a_village_facility_routes_by_its_area(tree: Any) -> None:
    market = make_facility(
        area=tree.village, name="金沙农贸市场", facility_type=FacilityType.objects.get(code="market")
    )
    director = make_director_user(facility=market, level=DirectorLevel.SANITATION_STAFF)
    inspection = make_inspection(director=director, failed={"prices": "未明码标价"})
    demand = inspection.items.get(passed=False).demand
    # The item names its own category (价格投诉), not the type's.
    assert demand.category.code == "1101"
    assert demand.area == tree.village


def _png_with_text() -> SimpleUploadedFile:
    return SimpleUploadedFile("evil.jpg", b"<?php echo 1; ?>", content_type="image/jpeg")


def test_photos_are_cleaned_and_a_bad_file_refuses_the_whole_inspection(toilet: Any, staff: Any) -> None:
    with pytest.raises(ValidationFailed) as err:
        services.inspection_record(
            facility=toilet,
            actor=staff.user,
            results=results_with(toilet, failed={"floor": "积水"}, photos={"floor": [_png_with_text()]}),
        )
    assert err.value.field == "photos"
    assert Inspection.objects.count() == 0 and Demand.objects.count() == 0

    inspection = services.inspection_record(
        facility=toilet,
        actor=staff.user,
        results=results_with(toilet, failed={"floor": "积水"}, photos={"floor": [jpeg(exif_gps=True)]}),
        photos=[jpeg("blue")],
    )
    item = inspection.items.get(passed=False)
    assert item.photos.count() == 1
    assert InspectionPhoto.objects.filter(inspection=inspection, item=None).count() == 1
    stored = Image.open(io.BytesIO(item.photos.get().image.read()))
    assert not stored.getexif()  # EXIF (with its GPS) is gone from the stored file
    # The GPS read from the photo places the inspection when the phone sent no position.
    assert inspection.lat == pytest.approx(28.15) and inspection.lng == pytest.approx(113.6333, abs=1e-3)
    # The demand carries the photo too, for the holder to see.
    assert item.demand.photos.count() == 1


def test_too_many_photos_for_one_item_are_refused(toilet: Any, staff: Any) -> None:
    with pytest.raises(ValidationFailed):
        services.inspection_record(
            facility=toilet,
            actor=staff.user,
            results=results_with(toilet, photos={"floor": [jpeg() for _ in range(4)]}),
        )


def test_one_active_director_per_level(toilet: Any) -> None:
    first = make_director(facility=toilet, level=DirectorLevel.CLEANER, name="甲")
    second = make_director(facility=toilet, level=DirectorLevel.CLEANER, name="乙")
    first.refresh_from_db()
    assert not first.is_active and first.ended_on is not None
    assert FacilityDirector.objects.get(facility=toilet, level=DirectorLevel.CLEANER, is_active=True) == second
    with pytest.raises(ValidationFailed):
        make_director(facility=toilet, level=DirectorLevel.CLEANER, name="丙", rule_count=0)
    with pytest.raises(ValidationFailed):
        make_director(facility=toilet, level="mayor", name="丁")


def test_a_facility_needs_at_least_a_town(tree: Any) -> None:
    with pytest.raises(ValidationFailed) as err:
        make_facility(area=tree.city)
    assert err.value.field == "area"
    make_facility(area=tree.town, code="GC-X1")
    with pytest.raises(ValidationFailed):
        make_facility(area=tree.town, code="GC-X1")
