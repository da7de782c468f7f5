"""Printable QR codes of micro-grids: scanning one opens the resident page with the grid chosen.

Codes are made locally (the `qrcode` library with Pillow): county intranets have no internet,
and a printed code must keep working, so it holds only the public page URL and the grid code —
never a database id or a token.
"""

from __future__ import annotations

import io
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.urls import reverse
from qrcode.constants import ERROR_CORRECT_M

from wangge.core.links import public_url
from wangge.registry.models import Area


def grid_report_url(grid: Area) -> str:
    """The absolute URL printed in a grid's QR code: the resident page with that grid preselected."""
    return public_url(f"{reverse('demands:report')}?{urlencode({'grid': grid.code})}")


def _make(data: str, *, box_size: int, border: int) -> qrcode.QRCode:
    # Level M survives a crease or a smudge on a sheet taped to a doorway, and stays small.
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=border)
    code.add_data(data)
    code.make(fit=True)
    return code


def grid_qr_png(grid: Area, *, box_size: int = 10, border: int = 4) -> bytes:
    """PNG bytes of the grid's QR code."""
    image = _make(grid_report_url(grid), box_size=box_size, border=border).make_image()
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def grid_qr_svg(grid: Area, *, border: int = 2) -> str:
    """Inline SVG of the grid's QR code: sharp at any print size, no extra request per grid."""
    code = _make(grid_report_url(grid), box_size=10, border=border)
    image = code.make_image(image_factory=qrcode.image.svg.SvgPathImage)
    svg = image.to_string(encoding="unicode")
    # Drop the XML declaration so the markup can sit inside an HTML page.
    if svg.startswith("<?xml"):
        svg = svg.split("?>", 1)[1].lstrip()
    return str(svg)
