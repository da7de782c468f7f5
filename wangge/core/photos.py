"""Photos people attach (demands, visits, inspections, projects): images only, size-capped, EXIF stripped.

A photo from a phone carries the place it was taken (EXIF GPS) and often the phone model and the
owner's name. We read the position (it helps route a report to the right grid), then re-encode the
pixels so nothing else from the file is kept. The file name the person chose is never reused: it
can hold their name and is not a reliable type signal anyway — only opening with Pillow is.
"""

from __future__ import annotations

import contextlib
import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from wangge.core.errors import ValidationFailed

# Formats a phone camera or a WeChat "save image" produces; anything else is refused.
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "MPO"}
# A phone photo is at most ~50 megapixels (settings.UPLOAD_MAX_IMAGE_PIXELS); beyond that it is a
# decompression bomb, not a photo. The photos of one request share a budget too
# (settings.UPLOAD_MAX_REQUEST_PIXELS): six 59-megapixel PNGs once cost 29 s of CPU and 775 MB.
# Both are checked from the header, before a single pixel is decoded.
MAX_PIXELS = 50_000_000
MAX_REQUEST_PIXELS = 100_000_000
# Stored photos are shown on phones over slow networks: keep the long side reasonable.
MAX_SIDE = 2560
JPEG_QUALITY = 85
MAX_PHOTOS = 6

_GPS_IFD = 0x8825
_GPS_LAT_REF, _GPS_LAT, _GPS_LNG_REF, _GPS_LNG = 1, 2, 3, 4


@dataclass(frozen=True)
class CleanPhoto:
    """A photo safe to store: re-encoded pixels without EXIF, a generated name, and its GPS if any."""

    content: ContentFile
    name: str
    lat: float | None = None
    lng: float | None = None


def _refuse(zh: str, en: str, code: str = "bad_photo") -> ValidationFailed:
    return ValidationFailed(zh, en, field="photos", code=code)


def _max_bytes() -> int:
    return int(getattr(settings, "UPLOAD_MAX_IMAGE_BYTES", 10 * 1024 * 1024))


def _read_capped(upload: Any, cap: int) -> bytes:
    """Read at most cap+1 bytes so a huge body never sits in memory whole."""
    size = getattr(upload, "size", None)
    if size is not None and size > cap:
        raise _too_big(cap)
    if hasattr(upload, "seek"):
        with contextlib.suppress(OSError, ValueError):
            upload.seek(0)
    data = upload.read(cap + 1)
    if len(data) > cap:
        raise _too_big(cap)
    return data


def max_pixels() -> int:
    return int(getattr(settings, "UPLOAD_MAX_IMAGE_PIXELS", MAX_PIXELS))


def max_request_pixels() -> int:
    return int(getattr(settings, "UPLOAD_MAX_REQUEST_PIXELS", MAX_REQUEST_PIXELS))


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.0f}"


def _header_pixels(upload: Any) -> int:
    """Width × height from the file's header (nothing decoded); 0 when it is not an image (refused later)."""
    try:
        data = _read_capped(upload, _max_bytes())
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return 0
    return width * height


def check_pixel_budget(uploads: Iterable[Any]) -> None:
    """Refuse, before decoding any, photos whose pixels together exceed `UPLOAD_MAX_REQUEST_PIXELS`."""
    total = sum(_header_pixels(u) for u in uploads if u is not None)
    budget = max_request_pixels()
    if total > budget:
        raise ValidationFailed(
            _(
                "these photos have %(total)s megapixels together; at most %(limit)s megapixels may be sent at once, "
                "please send fewer or smaller photos"
            ),
            params={"total": _megapixels(total), "limit": _megapixels(budget)},
            field="photos",
            code="photos_too_many_pixels",
        )


def _too_big(cap: int) -> ValidationFailed:
    mb = cap // (1024 * 1024)
    return _refuse(
        f"照片太大，每张不能超过 {mb} MB",
        f"The photo is too large; each photo must be at most {mb} MB",
        code="photo_too_large",
    )


def _to_degrees(value: Any) -> float:
    """EXIF stores degrees, minutes, seconds as three rationals."""
    d, m, s = (float(x) for x in value)
    return d + m / 60.0 + s / 3600.0


def read_gps(image: Image.Image) -> tuple[float | None, float | None]:
    """The (lat, lng) recorded by the camera, or (None, None) when absent or nonsense."""
    try:
        gps = image.getexif().get_ifd(_GPS_IFD)
    except Exception:  # a broken EXIF block must not refuse an otherwise good photo
        return None, None
    if not gps or _GPS_LAT not in gps or _GPS_LNG not in gps:
        return None, None
    try:
        lat = _to_degrees(gps[_GPS_LAT])
        lng = _to_degrees(gps[_GPS_LNG])
    except (TypeError, ValueError, ZeroDivisionError):
        return None, None
    lat_ref = str(gps.get(_GPS_LAT_REF, "N")).strip("\x00 ").upper()
    lng_ref = str(gps.get(_GPS_LNG_REF, "E")).strip("\x00 ").upper()
    if lat_ref == "S":
        lat = -lat
    if lng_ref == "W":
        lng = -lng
    # Cameras without a fix often write 0/0: that is "unknown", not the Gulf of Guinea.
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or (lat == 0 and lng == 0):
        return None, None
    return round(lat, 7), round(lng, 7)


def clean_photo(upload: Any) -> CleanPhoto:
    """Accept only a real, complete image within the size cap; keep its GPS; drop all metadata."""
    if upload is None:
        raise _refuse("没有收到照片", "No photo was received")
    cap = _max_bytes()
    data = _read_capped(upload, cap)
    if not data:
        raise _refuse("照片是空文件", "The photo file is empty")

    try:
        probe = Image.open(io.BytesIO(data))
        fmt = probe.format
        width, height = probe.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise _refuse(
            "这不是图片文件，请上传照片（JPG 或 PNG）", "This is not an image; please upload a photo (JPG or PNG)"
        )
    if fmt not in ALLOWED_FORMATS:
        raise _refuse(
            f"不支持的图片格式 {fmt}，请上传 JPG 或 PNG",
            f"Unsupported image format {fmt}; please upload a JPG or PNG",
        )
    if width * height > max_pixels():
        raise ValidationFailed(
            _("the photo has %(pixels)s megapixels; a photo may have at most %(limit)s megapixels"),
            params={"pixels": _megapixels(width * height), "limit": _megapixels(max_pixels())},
            field="photos",
            code="photo_too_large",
        )

    try:
        image: Image.Image = Image.open(io.BytesIO(data))
        if max(width, height) > MAX_SIDE:
            # A JPEG decodes at 1/2, 1/4 or 1/8 scale for the cost of the smaller image: it is cut to MAX_SIDE anyway.
            image.draft("RGB", (MAX_SIDE, MAX_SIDE))
        image.load()  # decodes every pixel: a truncated or corrupt file fails here
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise _refuse(
            "照片文件不完整或已损坏，请重新拍摄或选择",
            "The photo is incomplete or damaged; please take or choose it again",
        )

    lat, lng = read_gps(image)
    # Phones store "rotate me" in EXIF; apply it now because the EXIF is about to go.
    image = ImageOps.exif_transpose(image) or image
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE))

    out = io.BytesIO()
    # Keep PNG only where it carries transparency (a screenshot with an alpha channel); else JPEG is smaller.
    has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
    keep_png = fmt == "PNG" and has_alpha
    if keep_png:
        image.save(out, format="PNG", optimize=True)
        ext = "png"
    else:
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        # No exif= argument and no icc/comment: the new file carries pixels only.
        image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        ext = "jpg"
    name = f"{uuid.uuid4().hex}.{ext}"
    return CleanPhoto(content=ContentFile(out.getvalue(), name=name), name=name, lat=lat, lng=lng)


def clean_photos(uploads: Iterable[Any]) -> list[CleanPhoto]:
    """Clean several photos, refusing more than MAX_PHOTOS in one go or more pixels than the request's budget."""
    items = [u for u in uploads if u is not None]
    if len(items) > MAX_PHOTOS:
        raise _refuse(
            f"一次最多上传 {MAX_PHOTOS} 张照片",
            f"At most {MAX_PHOTOS} photos can be uploaded at once",
            code="too_many_photos",
        )
    check_pixel_budget(items)
    return [clean_photo(u) for u in items]
