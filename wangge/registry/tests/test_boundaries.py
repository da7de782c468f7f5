"""Boundaries in bulk: each format read, each bad feature named, nothing half-written, re-import replaces."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from wangge.core import geodesy
from wangge.core.errors import ValidationFailed
from wangge.registry.boundaries import boundary_import
from wangge.registry.importing import import_job_create, import_jobs_run
from wangge.registry.models import Area, ImportJob
from wangge.registry.testing_boundaries import (
    BEIJING54_PRJ,
    CGCS2000_PRJ,
    GAUSS_KRUGER_PRJ,
    geojson,
    kml,
    shapefile_zip,
    square,
)

pytestmark = pytest.mark.django_db

VILLAGE = square(113.60, 28.10, 113.62, 28.11)
WEST = square(113.60, 28.10, 113.61, 28.11)
EAST = square(113.61, 28.10, 113.62, 28.11)
OTHER = square(113.62, 28.10, 113.64, 28.11)


def layer(tree: Any) -> list[tuple[Any, dict[str, Any] | None]]:
    return [
        (tree.village.code, VILLAGE),
        (tree.grid.code, WEST),
        (tree.sibling_grid.code, EAST),
        (tree.other_village.code, OTHER),
        (tree.other_grid.code, OTHER),
    ]


def boundary(area: Area) -> Any:
    area.refresh_from_db()
    return area.boundary


def test_a_geojson_file_is_written_and_a_reimport_replaces_it(tree: Any) -> None:
    plan = boundary_import(data=geojson(layer(tree)), filename="bounds.geojson", root=tree.city)
    assert plan.written and not plan.problems and not plan.warnings
    assert dict(plan.by_level()) == {"village": 2, "grid": 3}
    assert boundary(tree.grid)["coordinates"] == WEST["coordinates"]
    tree.grid.refresh_from_db()
    assert tree.grid.boundary_datum == "wgs84"
    assert 28.10 < tree.grid.centre_lat < 28.11 and 113.60 < tree.grid.centre_lng < 113.61

    # The grid layer again without the other town's grid: that grid loses its old boundary, villages stay.
    again = boundary_import(
        data=geojson([(tree.grid.code, WEST), (tree.sibling_grid.code, EAST)]), filename="g.geojson", root=tree.city
    )
    assert again.cleared == [tree.other_grid.pk]
    assert boundary(tree.other_grid) is None
    assert boundary(tree.other_village) is not None


def test_a_preview_checks_and_writes_nothing(tree: Any) -> None:
    plan = boundary_import(data=geojson(layer(tree)), filename="bounds.json", root=tree.city, preview=True)
    assert plan.ok and len(plan.planned) == 5 and not plan.written
    assert not Area.objects.filter(boundary__isnull=False).exists()


def test_every_bad_feature_is_named_in_both_languages_and_nothing_is_written(tree: Any) -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[113.60, 28.10], [113.61, 28.11], [113.61, 28.10], [113.60, 28.11], [113.60, 28.10]]],
    }
    features = [
        (tree.village.code, VILLAGE),  # 1 fine
        ("430181999999", WEST),  # 2 unknown code
        (None, WEST),  # 3 no code
        (tree.grid.code, bowtie),  # 4 self-intersecting
        (
            tree.sibling_grid.code,
            square(113.605, 28.10, 113.62, 28.11),
        ),  # 5 fine (its west neighbour, feature 4, is refused)
        (tree.other_grid.code, square(113.62, 28.10, 113.66, 28.11)),  # 6 reaches outside its village (stored below)
        (tree.sibling_grid.code, EAST),  # 7 the same code again
        ("430181100", {"type": "Point", "coordinates": [113.6, 28.1]}),  # 8 a point, not a polygon
    ]
    Area.objects.filter(pk=tree.other_village.pk).update(boundary=OTHER)
    with pytest.raises(ValidationFailed) as caught:
        boundary_import(data=geojson(features), filename="bad.geojson", root=tree.city)
    problems = {p.code: p for p in caught.value.problems}
    assert set(problems) == {
        "unknown_code",
        "missing_code",
        "self_intersecting",
        "outside_parent",
        "duplicate_code",
        "not_polygon",
    }
    assert "feature 2" in problems["unknown_code"].en and "430181999999" in problems["unknown_code"].en
    assert "第 2 个要素" in problems["unknown_code"].zh
    assert "feature 4" in problems["self_intersecting"].en
    assert "feature 6" in problems["outside_parent"].en and "北正社区" in problems["outside_parent"].en
    assert "feature 7" in problems["duplicate_code"].en and "feature 5" in problems["duplicate_code"].en
    assert Area.objects.filter(boundary__isnull=False).count() == 1  # only the one set above the import


def test_neighbours_overlapping_beyond_the_tolerance_are_refused_within_it_pass(tree: Any, settings: Any) -> None:
    settings.BOUNDARY_OVERLAP_TOLERANCE_M2 = 50
    # ~0.00001° (1 m) over a 1.1 km border: ~1,100 m² shared.
    wide = [(tree.grid.code, WEST), (tree.sibling_grid.code, square(113.60999, 28.10, 113.62, 28.11))]
    plan = boundary_import(data=geojson(wide), filename="o.geojson", root=tree.city, preview=True)
    assert [p.code for p in plan.problems] == ["overlap"]
    assert "feature 2" in plan.problems[0].en and "feature 1" in plan.problems[0].en
    # 1e-7° (1 cm) over the same border: ~11 m², a digitising wobble.
    thin = [(tree.grid.code, WEST), (tree.sibling_grid.code, square(113.6099999, 28.10, 113.62, 28.11))]
    assert boundary_import(data=geojson(thin), filename="o.geojson", root=tree.city, preview=True).ok


def test_gaps_inside_a_village_are_reported_not_refused(tree: Any) -> None:
    plan = boundary_import(
        data=geojson([(tree.village.code, VILLAGE), (tree.grid.code, WEST)]), filename="g.geojson", root=tree.city
    )
    assert plan.written
    assert [w.code for w in plan.warnings] == ["gap"] and "金沙社区" in plan.warnings[0].en


def test_a_gcj02_file_is_converted_to_wgs84(tree: Any) -> None:
    moved = {
        "type": "Polygon",
        "coordinates": [[list(geodesy.wgs84_to_gcj02(y, x))[::-1] for x, y in WEST["coordinates"][0]]],
    }
    boundary_import(data=geojson([(tree.grid.code, moved)]), filename="amap.geojson", root=tree.city, datum="gcj02")
    for (x, y), (x0, y0) in zip(boundary(tree.grid)["coordinates"][0], WEST["coordinates"][0], strict=True):
        assert geodesy.distance_m(y, x, y0, x0) < 0.05


def test_projected_or_foreign_coordinates_are_refused_with_what_to_export(tree: Any) -> None:
    projected = square(38_500_000, 3_110_000, 38_501_000, 3_111_000)
    with pytest.raises(ValidationFailed) as caught:
        boundary_import(data=geojson([(tree.grid.code, projected)]), filename="gk.geojson", root=tree.city)
    assert caught.value.code == "wrong_datum" and "longitude/latitude" in caught.value.en
    crs = {"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4214"}}}
    with pytest.raises(ValidationFailed) as caught:
        boundary_import(data=geojson([(tree.grid.code, WEST)], **crs), filename="b.geojson", root=tree.city)
    assert caught.value.code == "wrong_datum"


def test_a_file_over_the_size_cap_is_refused(tree: Any, settings: Any) -> None:
    settings.BOUNDARY_IMPORT_MAX_BYTES = 200
    with pytest.raises(ValidationFailed) as caught:
        boundary_import(data=geojson(layer(tree)), filename="big.geojson", root=tree.city)
    assert caught.value.code == "too_large"


def test_kml_placemarks_carry_their_code_in_extended_data(tree: Any) -> None:
    plan = boundary_import(
        data=kml([(tree.grid.code, WEST), (tree.sibling_grid.code, EAST)]), filename="g.kml", root=tree.city
    )
    assert plan.written and boundary(tree.sibling_grid)["coordinates"] == EAST["coordinates"]


def test_a_kmz_is_its_kml_zipped(tree: Any) -> None:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("doc.kml", kml([(tree.grid.code, WEST)]))
    assert boundary_import(data=out.getvalue(), filename="g.kmz", root=tree.city).written
    assert boundary(tree.grid)["coordinates"] == WEST["coordinates"]


def test_a_gbk_shapefile_is_read_from_its_cpg_or_the_chosen_encoding(tree: Any) -> None:
    rows = [(tree.grid.code, "金沙1号微网格", WEST), (tree.sibling_grid.code, "金沙2号微网格", EAST)]
    with_cpg = shapefile_zip(rows, encoding="gbk", cpg="GBK", prj=CGCS2000_PRJ)
    plan = boundary_import(data=with_cpg, filename="grids.zip", root=tree.city)
    assert plan.written and plan.source_datum == "cgcs2000" and boundary(tree.grid) is not None
    without_cpg = shapefile_zip(rows, encoding="gbk")
    with pytest.raises(ValidationFailed) as caught:
        boundary_import(data=without_cpg, filename="grids.zip", root=tree.city)
    assert caught.value.field == "encoding" and "GBK" in caught.value.en
    assert boundary_import(data=without_cpg, filename="grids.zip", root=tree.city, encoding="gbk").written


def test_a_shapefile_without_prj_asks_for_the_datum_and_a_projected_or_old_one_is_refused(tree: Any) -> None:
    rows = [(tree.grid.code, "a", WEST)]
    with pytest.raises(ValidationFailed) as caught:
        boundary_import(data=shapefile_zip(rows, prj=None), filename="g.zip", root=tree.city)
    assert caught.value.code == "no_prj" and ".prj" in caught.value.en
    assert boundary_import(data=shapefile_zip(rows, prj=None), filename="g.zip", root=tree.city, datum="wgs84").written
    for prj in (GAUSS_KRUGER_PRJ, BEIJING54_PRJ):
        with pytest.raises(ValidationFailed) as caught:
            boundary_import(data=shapefile_zip(rows, prj=prj), filename="g.zip", root=tree.city)
        assert caught.value.code == "wrong_datum"
    with pytest.raises(ValidationFailed) as caught:
        boundary_import(data=shapefile_zip(rows, field="BM"), filename="g.zip", root=tree.city)
    assert caught.value.code == "no_code_field" and "BM" in caught.value.en


def test_broken_files_are_refused_whole(tree: Any) -> None:
    for data, name in (
        (b"{not json", "x.geojson"),
        (b"PK\x03\x04 broken", "x.zip"),
        (b"<kml", "x.kml"),
        (b"x", "x.txt"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            boundary_import(data=data, filename=name, root=tree.city)
        assert caught.value.field == "file"


# --- the page -------------------------------------------------------------------------------------


def test_the_page_previews_then_imports_through_worker_jobs_city_administrators_only(
    client: Client, personas: Any, tree: Any, settings: Any, tmp_path: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    url = reverse("registry:boundaries")
    client.force_login(personas["city_admin"])
    upload = SimpleUploadedFile("bounds.geojson", geojson(layer(tree)))
    form = {"action": "preview", "city": tree.city.pk, "code_field": "code", "datum": "auto", "encoding": "auto"}
    sent = client.post(url, {**form, "file": upload})
    preview = ImportJob.objects.get()
    assert sent.status_code == 302 and sent["Location"] == reverse("registry:import_job", args=[preview.pk])
    assert (preview.kind, preview.status, preview.options["preview"]) == ("boundaries", "queued", True)
    assert 'data-testid="import-queued"' in client.get(sent["Location"]).content.decode()  # the request only queued

    assert import_jobs_run()["status"] == "done"  # the worker reads and checks
    assert not Area.objects.filter(boundary__isnull=False).exists()  # a preview writes nothing
    polled = client.get(sent["Location"], headers={"HX-Request": "true"})
    assert polled["HX-Refresh"] == "true"  # the map needs the whole page
    html = client.get(sent["Location"]).content.decode()
    assert 'data-testid="boundary-preview"' in html and 'id="boundary-preview"' in html
    assert 'data-testid="boundary-confirm"' in html

    done = client.post(url, {"action": "confirm", "job": preview.pk})
    job = ImportJob.objects.exclude(pk=preview.pk).get()
    assert done.status_code == 302 and done["Location"] == reverse("registry:import_job", args=[job.pk])
    assert (job.status, "preview" in job.options, job.options["code_field"]) == ("queued", False, "code")
    assert not Area.objects.filter(boundary__isnull=False).exists()  # the request only queued it
    assert import_jobs_run()["status"] == "done"  # the worker's pass writes
    assert Area.objects.filter(boundary__isnull=False).count() == 5
    result = client.get(done["Location"]).content.decode()
    assert 'data-testid="import-result"' in result and "hx-get" not in result
    assert 'data-testid="boundary-preview"' not in result
    job.refresh_from_db()
    assert (job.rows, job.created_count) == (5, 5)
    assert job.original_name in client.get(url).content.decode()  # listed on the boundary page

    bad = SimpleUploadedFile("bad.geojson", geojson([("430181999999", WEST)]))
    client.post(url, {**form, "file": bad})
    assert import_jobs_run()["status"] == "refused"
    refused = ImportJob.objects.get(original_name="bad.geojson")
    page = client.get(reverse("registry:import_job", args=[refused.pk])).content.decode()
    assert 'data-code="unknown_code"' in page and 'data-testid="boundary-confirm"' not in page
    assert client.post(url, {"action": "confirm", "job": refused.pk}).status_code == 400  # a bad file: no import
    assert ImportJob.objects.count() == 3

    client.force_login(personas["grid_leader"])
    assert client.get(url).status_code == 403
    assert client.get(reverse("registry:import_job", args=[job.pk])).status_code == 403


def test_the_worker_refuses_a_queued_boundary_file_that_went_wrong_naming_every_feature(
    client: Client, personas: Any, tree: Any, settings: Any, tmp_path: Any
) -> None:
    # Checked again by the worker: a code that no longer exists when the job runs is named, nothing written.
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    admin = personas["city_admin"]
    bad = SimpleUploadedFile("bad.geojson", geojson([("430181999999", WEST)]))
    job = import_job_create(user=admin, city=tree.city, upload=bad, kind="boundaries", options={})
    assert import_jobs_run()["status"] == "refused"
    job.refresh_from_db()
    assert job.error_count == 1 and job.errors[0]["code"] == "unknown_code"
    assert not Area.objects.filter(boundary__isnull=False).exists()
    client.force_login(admin)
    html = client.get(reverse("registry:import_job", args=[job.pk])).content.decode()
    assert 'data-testid="import-errors"' in html and job.errors[0]["message"] in html


def test_the_page_refuses_an_oversized_upload_before_reading_it(
    client: Client, personas: Any, tree: Any, settings: Any, tmp_path: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.BOUNDARY_IMPORT_MAX_BYTES = 1024 * 1024
    settings.MEDIA_ROOT = tmp_path
    client.force_login(personas["city_admin"])
    big = SimpleUploadedFile("big.geojson", b" " * (3 * 1024 * 1024))
    page = client.post(reverse("registry:boundaries"), {"action": "preview", "city": tree.city.pk, "file": big})
    assert page.status_code == 400
    assert "at most 1 MB" in page.content.decode() or "最多 1 MB" in page.content.decode()
    assert not list(tmp_path.rglob("*.geojson")) and not ImportJob.objects.exists()  # nothing kept waiting
