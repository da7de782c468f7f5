"""Boundary files read into plain features: GeoJSON, KML (or KMZ) and a zipped ESRI Shapefile.

No GDAL: `pyshp` reads the shapefile, `fastkml` the KML, the standard library the rest. Each reader
returns `Source(format, datum, features)`; a feature is its number in the file (1-based, as a person
counts), the value of the chosen code attribute, a name when there is one and its GeoJSON geometry in
the file's own datum. Whole-file problems (not a boundary file, no datum, text that is not in the
chosen encoding, coordinates that are not longitude/latitude) raise `ValidationFailed` on `file`;
problems of one feature are the checks' business (`checks.py`).

Datums: GeoJSON (RFC 7946) and KML are WGS-84 by their specifications; an old-style GeoJSON `crs`
naming EPSG:4490 says CGCS2000. A shapefile says its datum in the `.prj`: geographic WGS-84 or
CGCS2000 is read; projected coordinates (Gauss-Krüger zones in metres) and the old Beijing 1954 /
Xi'an 1980 datums are refused with what to export instead. An archive without `.prj` is read only when
the person chose the datum; otherwise it is refused, asking for it.
"""

from __future__ import annotations

import codecs
import io
import json
import re
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from wangge.core import geodesy
from wangge.core.errors import ValidationFailed

AUTO = "auto"
ENCODINGS = ("utf-8", "gbk", "gb18030")


@dataclass
class Feature:
    number: int
    code: str
    name: str
    geometry: dict[str, Any] | None


@dataclass
class Source:
    format: str
    datum: str
    features: list[Feature] = field(default_factory=list)
    encoding: str = ""


def _refuse(message: Any, params: dict[str, Any] | None = None, code: str = "bad_file") -> ValidationFailed:
    return ValidationFailed(message, params=params, field="file", code=code)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code stored as a number in the .dbf: 43018110020101001.0
    return str(value).strip()


def read_boundaries(
    data: bytes, filename: str, *, code_field: str = "code", datum: str = AUTO, encoding: str = AUTO
) -> Source:
    """The features of one uploaded file, by its name's ending; the size cap is checked first."""
    limit = settings.BOUNDARY_IMPORT_MAX_BYTES
    if len(data) > limit:
        raise _too_large(limit)
    if datum != AUTO and datum not in geodesy.DATUMS:
        raise ValidationFailed(_("unknown coordinate datum '%(datum)s'"), params={"datum": datum}, field="datum")
    name = filename.lower()
    code_field = (code_field or "code").strip()
    if name.endswith((".geojson", ".json")):
        source = _read_geojson(data, code_field, datum)
    elif name.endswith(".kml"):
        source = _read_kml(data, code_field, datum)
    elif name.endswith((".zip", ".kmz")):
        source = _read_zip(data, code_field, datum, encoding, limit)
    else:
        raise _refuse(
            _(
                "'%(name)s' is not a boundary file: upload GeoJSON (.geojson), KML (.kml/.kmz) or a zipped "
                "shapefile (.zip)"
            ),
            {"name": filename[:80]},
            code="bad_format",
        )
    _check_coordinates(source)
    return source


def _too_large(limit: int) -> ValidationFailed:
    return _refuse(
        _("the file is too large: at most %(megabytes)s MB"), {"megabytes": limit // (1024 * 1024)}, code="too_large"
    )


# --- GeoJSON -------------------------------------------------------------------------------------

_CRS_DATUMS = {"4326": geodesy.WGS84, "crs84": geodesy.WGS84, "4490": geodesy.CGCS2000}


def _read_geojson(data: bytes, code_field: str, datum: str) -> Source:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _refuse(_("the GeoJSON file cannot be read: %(error)s"), {"error": str(exc)[:120]}) from exc
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        doc = {"type": "FeatureCollection", "features": [doc]}
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise _refuse(_("the GeoJSON file is not a FeatureCollection"))
    file_datum = geodesy.WGS84
    crs = ((doc.get("crs") or {}).get("properties") or {}).get("name", "") if isinstance(doc.get("crs"), dict) else ""
    if crs:
        key = re.sub(r".*[:]", "", str(crs)).lower()
        if key not in _CRS_DATUMS:
            raise _refuse(
                _(
                    "the GeoJSON names the coordinate system %(crs)s; export it in WGS-84 or CGCS2000 "
                    "longitude/latitude"
                ),
                {"crs": str(crs)[:60]},
                code="wrong_datum",
            )
        file_datum = _CRS_DATUMS[key]
    features = []
    for number, item in enumerate(doc["features"], start=1):
        item = item if isinstance(item, dict) else {}
        props: dict[str, Any] = item["properties"] if isinstance(item.get("properties"), dict) else {}
        features.append(
            Feature(
                number=number,
                code=_text(props.get(code_field)),
                name=_text(props.get("name") or props.get("NAME") or props.get("名称")),
                geometry=item.get("geometry") if isinstance(item.get("geometry"), dict) else None,
            )
        )
    return Source("geojson", file_datum if datum == AUTO else datum, features)


# --- KML -----------------------------------------------------------------------------------------


def _placemarks(node: Any) -> Iterator[Any]:
    for child in getattr(node, "features", None) or []:
        yield from _placemarks(child)
    if type(node).__name__ == "Placemark":
        yield node


def _kml_value(placemark: Any, code_field: str) -> str:
    if code_field.lower() == "name":
        return _text(placemark.name)
    extended = placemark.extended_data
    for element in getattr(extended, "elements", None) or []:
        if getattr(element, "name", None) == code_field:
            return _text(getattr(element, "value", ""))
        for simple in getattr(element, "data", None) or []:
            if getattr(simple, "name", None) == code_field:
                return _text(simple.value)
    return ""


def _read_kml(data: bytes, code_field: str, datum: str) -> Source:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fastkml warns once that lxml (pretty printing) is missing
        from fastkml import kml

        try:
            document = kml.KML.from_string(data)  # type: ignore[arg-type]  # bytes keep the XML's own encoding
        except Exception as exc:  # any parser error is a file that is not KML
            raise _refuse(_("the KML file cannot be read: %(error)s"), {"error": str(exc)[:120]}) from exc
    features = []
    for number, placemark in enumerate(_placemarks(document), start=1):
        geometry = placemark.geometry
        features.append(
            Feature(
                number=number,
                code=_kml_value(placemark, code_field),
                name=_text(placemark.name),
                geometry=_plain(geometry.__geo_interface__) if geometry is not None else None,
            )
        )
    # KML is WGS-84 by its specification; a chosen datum says the coordinates were taken from another map.
    return Source("kml", geodesy.WGS84 if datum == AUTO else datum, features)


def _plain(geo: dict[str, Any]) -> dict[str, Any]:
    """A __geo_interface__ (tuples, a bbox, collections) as plain GeoJSON lists."""

    def lists(value: Any) -> Any:
        return [lists(v) for v in value] if isinstance(value, (list, tuple)) else value

    if geo.get("type") == "GeometryCollection":
        polygons = [g for g in geo.get("geometries", []) if g.get("type") in ("Polygon", "MultiPolygon")]
        coords: list[Any] = []
        for g in polygons:
            coords += [g["coordinates"]] if g["type"] == "Polygon" else list(g["coordinates"])
        return {"type": "MultiPolygon", "coordinates": lists(coords)}
    return {"type": geo["type"], "coordinates": lists(geo.get("coordinates", []))}


# --- zip: a shapefile, or a KMZ --------------------------------------------------------------------


def _read_zip(data: bytes, code_field: str, datum: str, encoding: str, limit: int) -> Source:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise _refuse(_("the file is not a zip archive")) from exc
    if sum(m.file_size for m in members) > limit:  # a small zip that unpacks to gigabytes
        raise _too_large(limit)
    by_ending: dict[str, list[zipfile.ZipInfo]] = {}
    for member in members:
        if member.is_dir() or member.filename.startswith("__MACOSX/"):
            continue
        by_ending.setdefault(member.filename.rsplit(".", 1)[-1].lower(), []).append(member)
    if "shp" not in by_ending and "kml" in by_ending:
        return _read_kml(archive.read(by_ending["kml"][0]), code_field, datum)
    shps = by_ending.get("shp", [])
    if len(shps) != 1:
        raise _refuse(
            _("the archive must hold exactly one shapefile (.shp with its .shx and .dbf); it holds %(count)s"),
            {"count": len(shps)},
            code="bad_archive",
        )
    stem = shps[0].filename[:-4]

    def part(ending: str) -> bytes | None:
        for member in members:
            if member.filename[: len(stem)] == stem and member.filename[len(stem) :].lower() == "." + ending:
                return archive.read(member)
        return None

    shp, shx, dbf, prj, cpg = part("shp"), part("shx"), part("dbf"), part("prj"), part("cpg")
    if dbf is None or shx is None:
        raise _refuse(_("the shapefile lacks its .dbf or .shx part"), code="bad_archive")
    file_datum = _prj_datum(prj.decode("latin-1") if prj else None, datum)
    text_encoding = _encoding(cpg, encoding)
    return _read_shapefile(shp or b"", shx, dbf, code_field, file_datum, text_encoding)


def _prj_datum(prj: str | None, chosen: str) -> str:
    if prj is None:
        if chosen == AUTO:
            raise _refuse(
                _(
                    "the archive has no .prj file, so the coordinate datum is unknown: choose the datum the "
                    "coordinates are in (WGS-84, CGCS2000, GCJ-02 or BD-09) and upload again"
                ),
                code="no_prj",
            )
        return chosen
    wkt = prj.upper()
    if wkt.lstrip().startswith("PROJCS") or "PROJECTION[" in wkt:
        raise _refuse(
            _(
                "the shapefile is in projected coordinates (%(name)s); export it as geographic longitude/latitude "
                "in CGCS2000 or WGS-84 (EPSG:4490 or EPSG:4326)"
            ),
            {"name": (re.findall(r'"([^"]+)"', prj) or ["?"])[0][:60]},
            code="wrong_datum",
        )
    if any(word in wkt for word in ("BEIJING", "XIAN", "XI_AN", "KRASOVSKY_1940", "IAG_1975")):
        raise _refuse(
            _("the shapefile uses the old Beijing 1954 or Xi'an 1980 datum; export it in CGCS2000 or WGS-84"),
            code="wrong_datum",
        )
    found = geodesy.CGCS2000 if ("2000" in wkt and ("CGCS" in wkt or "CHINA" in wkt)) else None
    if found is None and ("WGS_1984" in wkt or "WGS 84" in wkt or "WGS84" in wkt):
        found = geodesy.WGS84
    if found is None:
        raise _refuse(
            _("the .prj names a datum this import does not know; export it in CGCS2000 or WGS-84"), code="wrong_datum"
        )
    # The .prj says WGS-84 even when the points were traced on a GCJ-02 map: the person may say so.
    return found if chosen == AUTO else chosen


_CODE_PAGES = {"936": "gbk", "65001": "utf-8", "54936": "gb18030"}


def _encoding(cpg: bytes | None, chosen: str) -> str:
    if chosen != AUTO:
        if chosen not in ENCODINGS:
            raise ValidationFailed(
                _("unknown text encoding '%(encoding)s'"), params={"encoding": chosen[:20]}, field="encoding"
            )
        return chosen
    if cpg:
        name = cpg.decode("ascii", "ignore").strip().lower()
        name = _CODE_PAGES.get(name, name)
        try:
            return codecs.lookup(name).name
        except LookupError:
            pass
    return "utf-8"


def _read_shapefile(shp: bytes, shx: bytes, dbf: bytes, code_field: str, datum: str, encoding: str) -> Source:
    import shapefile  # pyshp

    try:
        reader = shapefile.Reader(
            shp=io.BytesIO(shp), shx=io.BytesIO(shx), dbf=io.BytesIO(dbf), encoding=encoding, encodingErrors="strict"
        )
        names = [f[0] for f in reader.fields[1:]]
        if code_field not in names:  # dBase field names are often upper case: CODE for code
            code_field = next((n for n in names if n.lower() == code_field.lower()), code_field)
        if code_field not in names:
            raise _refuse(
                _("the shapefile has no attribute '%(field)s'; its attributes are: %(names)s"),
                {"field": code_field, "names": ", ".join(names)[:200]},
                code="no_code_field",
            )
        at = names.index(code_field)
        name_at = next((names.index(n) for n in ("name", "NAME", "名称", "MC") if n in names), None)
        features = []
        for number, item in enumerate(reader.iterShapeRecords(), start=1):
            record = list(item.record)
            geometry = item.shape.__geo_interface__ if item.shape.shapeType != shapefile.NULL else None
            features.append(
                Feature(
                    number=number,
                    code=_text(record[at]),
                    name=_text(record[name_at]) if name_at is not None else "",
                    geometry=_plain(geometry) if geometry else None,
                )
            )
    except (UnicodeDecodeError, shapefile.ShapefileException) as exc:
        if not isinstance(exc, UnicodeDecodeError) and "decode" not in str(exc):
            raise _refuse(_("the shapefile cannot be read: %(error)s"), {"error": str(exc)[:120]}) from exc
        raise ValidationFailed(
            _(
                "the shapefile's attribute text is not %(encoding)s (Chinese shapefiles are often GBK): choose the "
                "encoding and upload again"
            ),
            params={"encoding": encoding.upper()},
            field="encoding",
            code="bad_encoding",
        ) from exc
    return Source("shapefile", datum, features, encoding=encoding)


# --- whole-file sanity ------------------------------------------------------------------------------


def _check_coordinates(source: Source) -> None:
    """Coordinates far outside longitude/latitude (metres of a projection) mean the wrong export."""
    for feature in source.features[:50]:
        point = _first_point(feature.geometry)
        if point is None:
            continue
        lng, lat = point
        if not (-180 <= lng <= 180 and -90 <= lat <= 90):
            raise _refuse(
                _(
                    "feature %(number)s has coordinates (%(x)s, %(y)s) that are not longitude/latitude: the file "
                    "is probably projected; export it in CGCS2000 or WGS-84 longitude/latitude"
                ),
                {"number": feature.number, "x": round(lng, 1), "y": round(lat, 1)},
                code="wrong_datum",
            )


def _first_point(geometry: dict[str, Any] | None) -> tuple[float, float] | None:
    coords: Any = (geometry or {}).get("coordinates")
    while isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (list, tuple)):
        coords = coords[0]
    if isinstance(coords, (list, tuple)) and len(coords) >= 2:
        try:
            return float(coords[0]), float(coords[1])
        except (TypeError, ValueError):
            return None
    return None
