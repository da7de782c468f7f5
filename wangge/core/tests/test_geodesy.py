"""The datum conversions against the reference values the published formulas give (coordtransform's test)."""

from __future__ import annotations

import pytest

from wangge.core import geodesy
from wangge.core.geodesy import BD09, CGCS2000, GCJ02, WGS84

# The point (Beijing, lat 39.915, lng 116.404) and its published images under each conversion.
REFERENCE = (39.915, 116.404)


def test_forward_formulas_give_the_published_values() -> None:
    assert geodesy.wgs84_to_gcj02(*REFERENCE) == pytest.approx((39.91640428150164, 116.41024449916938), abs=1e-12)
    assert geodesy.gcj02_to_bd09(*REFERENCE) == pytest.approx((39.92133699351021, 116.41036949371029), abs=1e-12)
    assert geodesy.bd09_to_gcj02(*REFERENCE) == pytest.approx((39.90865673957631, 116.39762729119315), abs=1e-12)


def test_the_iterative_inverse_undoes_gcj02_to_a_millimetre() -> None:
    # The published one-step inverse lands ~1 m off; the iteration comes back to the start.
    for lat, lng in [REFERENCE, (28.15, 113.63), (28.4, 114.0), (22.54, 114.06)]:
        back = geodesy.gcj02_to_wgs84(*geodesy.wgs84_to_gcj02(lat, lng))
        assert geodesy.distance_m(lat, lng, *back) < 0.001
    one_step = (39.91359571849836, 116.39775550083061)  # coordtransform's gcj02towgs84(116.404, 39.915)
    assert geodesy.distance_m(*geodesy.gcj02_to_wgs84(*REFERENCE), *one_step) < 5


def test_in_liuyang_the_gcj02_offset_is_hundreds_of_metres() -> None:
    shifted = geodesy.wgs84_to_gcj02(28.15, 113.63)
    assert 300 < geodesy.distance_m(28.15, 113.63, *shifted) < 800


def test_convert_between_every_pair_round_trips() -> None:
    lat, lng = 28.15, 113.63
    for source in geodesy.DATUMS:
        for target in geodesy.DATUMS:
            there = geodesy.convert(lat, lng, source, target)
            back = geodesy.convert(*there, target, source)
            assert geodesy.distance_m(lat, lng, *back) < 0.1, (source, target)  # Baidu's inverse: centimetres
    assert geodesy.convert(lat, lng, BD09, WGS84) == pytest.approx(
        geodesy.gcj02_to_wgs84(*geodesy.bd09_to_gcj02(lat, lng))
    )


def test_cgcs2000_is_taken_as_wgs84_and_outside_china_nothing_moves() -> None:
    assert geodesy.convert(28.15, 113.63, CGCS2000, WGS84) == (28.15, 113.63)
    assert geodesy.convert(48.85, 2.35, WGS84, GCJ02) == (48.85, 2.35)  # Paris
    with pytest.raises(ValueError):
        geodesy.convert(28.15, 113.63, "beijing54", WGS84)
