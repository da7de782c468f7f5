"""A point as every app stores it: WGS-84 floats, and the datum it arrived in (`Datum`).

Phones and maps give points in several datums (`wangge.core.geodesy`): WeChat, Amap and Tencent GCJ-02,
Baidu BD-09, the browser's geolocation and surveys WGS-84 or CGCS2000. Demands, facilities, inspections
and parking lots all store their point converted to WGS-84, like the boundaries they are matched with,
and keep the datum it came in so the original can be recovered. One function decides it for all.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from wangge.core import geodesy
from wangge.core.errors import ValidationFailed
from wangge.registry.models import Datum


def stored_point(lat: Any, lng: Any, datum: Any = Datum.WGS84) -> tuple[float | None, float | None, str]:
    """(lat, lng) in WGS-84 and the source datum; neither given is (None, None, "wgs84").

    Refuses, naming the field, a datum it does not know (`datum`) and a half point, text or a value off
    the globe (`location`)."""
    if datum not in Datum.values:
        raise ValidationFailed(
            _("unknown coordinate datum '%(datum)s'"), params={"datum": str(datum)[:20]}, field="datum"
        )
    if lat in (None, "") and lng in (None, ""):
        return None, None, Datum.WGS84
    try:
        lat_f, lng_f = float(lat), float(lng)
    except (TypeError, ValueError):
        raise ValidationFailed(_("the location is not a valid point"), field="location") from None
    if not (-90 <= lat_f <= 90 and -180 <= lng_f <= 180):
        raise ValidationFailed(_("the location is not a valid point"), field="location")
    if datum != Datum.WGS84:
        lat_f, lng_f = geodesy.convert(lat_f, lng_f, str(datum), Datum.WGS84)
    return lat_f, lng_f, str(datum)
