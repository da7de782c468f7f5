"""Boundary files for tests: GeoJSON, KML and zipped shapefiles built in memory (pyshp writes the shapefile)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

WGS84_PRJ = (
    'GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
    'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]'
)
CGCS2000_PRJ = (
    'GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",SPHEROID["CGCS2000",6378137,'
    '298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]'
)
GAUSS_KRUGER_PRJ = (
    'PROJCS["CGCS2000_3_Degree_GK_Zone_38",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",'
    'DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]]],PROJECTION["Gauss_Kruger"]]'
)
BEIJING54_PRJ = 'GEOGCS["GCS_Beijing_1954",DATUM["D_Beijing_1954",SPHEROID["Krasovsky_1940",6378245.0,298.3]]]'


def square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    """A rectangle, its ring counter-clockwise as GeoJSON (RFC 7946) has it."""
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def geojson(features: list[tuple[Any, dict[str, Any] | None]], *, field: str = "code", **extra: Any) -> bytes:
    """A FeatureCollection of (code, geometry); a code of None leaves the attribute out."""
    items = [
        {"type": "Feature", "properties": {} if code is None else {field: code}, "geometry": geometry}
        for code, geometry in features
    ]
    return json.dumps({"type": "FeatureCollection", "features": items, **extra}).encode()


def kml(features: list[tuple[str, dict[str, Any]]]) -> bytes:
    placemarks = []
    for code, geometry in features:
        ring = " ".join(f"{x},{y}" for x, y in geometry["coordinates"][0])
        placemarks.append(
            f'<Placemark><name>{code}</name><ExtendedData><Data name="code"><value>{code}</value></Data>'
            f"</ExtendedData><Polygon><outerBoundaryIs><LinearRing><coordinates>{ring}</coordinates>"
            "</LinearRing></outerBoundaryIs></Polygon></Placemark>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        + "".join(placemarks)
        + "</Document></kml>"
    ).encode()


def shapefile_zip(
    features: list[tuple[str, str, dict[str, Any]]],
    *,
    encoding: str = "utf-8",
    prj: str | None = WGS84_PRJ,
    cpg: str | None = None,
    field: str = "CODE",
) -> bytes:
    """A zip of one shapefile of (code, name, polygon), its text in `encoding`, with the .prj and .cpg given."""
    import shapefile

    shp, shx, dbf = io.BytesIO(), io.BytesIO(), io.BytesIO()
    with shapefile.Writer(shp=shp, shx=shx, dbf=dbf, shapeType=shapefile.POLYGON, encoding=encoding) as writer:
        writer.field(field, "C", size=32)
        writer.field("NAME", "C", size=60)
        for code, name, geometry in features:
            writer.poly([ring[::-1] for ring in geometry["coordinates"]])  # shapefile outer rings run clockwise
            writer.record(code, name)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("grids.shp", shp.getvalue())
        archive.writestr("grids.shx", shx.getvalue())
        archive.writestr("grids.dbf", dbf.getvalue())
        if prj is not None:
            archive.writestr("grids.prj", prj)
        if cpg is not None:
            archive.writestr("grids.cpg", cpg)
    return out.getvalue()
