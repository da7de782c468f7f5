"""Photos are refused by pixel count from their header, before decoding: one photo, and a request's photos
together (issue 15, item 8: six 59-megapixel PNGs from an anonymous visitor cost 29 s of CPU and 775 MB)."""

from __future__ import annotations

import io
import struct
import time
import zlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from wangge.core.errors import ValidationFailed
from wangge.core.photos import clean_photo, clean_photos


def big_png(width: int, height: int) -> SimpleUploadedFile:
    """A PNG of a few hundred bytes whose header claims `width` × `height` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + b"\x00" * (width * 3)
    idat = zlib.compress(row * 4)  # a few rows; a decoder would still allocate the whole image first
    body = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    body += chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    return SimpleUploadedFile("bomb.png", body, content_type="image/png")


def small_jpeg() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, format="JPEG")
    return SimpleUploadedFile("a.jpg", out.getvalue(), content_type="image/jpeg")


def test_one_photo_over_the_limit_is_refused_saying_how_many_megapixels(settings: Any) -> None:
    settings.UPLOAD_MAX_IMAGE_PIXELS = 20_000_000
    with pytest.raises(ValidationFailed) as caught:
        clean_photo(big_png(6000, 4000))  # 24 MP
    error = caught.value
    assert error.field == "photos" and error.code == "photo_too_large"
    assert "24" in error.en and "20" in error.en and "megapixels" in error.en and "兆像素" in error.zh


def test_the_photos_of_one_request_share_a_pixel_budget_checked_before_any_is_decoded(settings: Any) -> None:
    settings.UPLOAD_MAX_IMAGE_PIXELS = 50_000_000
    settings.UPLOAD_MAX_REQUEST_PIXELS = 100_000_000
    photos = [big_png(7000, 7000) for _ in range(6)]  # 49 MP each: each alone passes, together 294 MP
    started = time.process_time()
    with pytest.raises(ValidationFailed) as caught:
        clean_photos(photos)
    assert time.process_time() - started < 2  # refused from the headers: nothing decoded
    error = caught.value
    assert error.field == "photos" and error.code == "photos_too_many_pixels"
    assert "294" in error.en and "100" in error.en and "兆像素" in error.zh


def test_ordinary_photos_pass_the_budget(settings: Any) -> None:
    settings.UPLOAD_MAX_REQUEST_PIXELS = 100_000_000
    cleaned = clean_photos([small_jpeg(), small_jpeg()])
    assert len(cleaned) == 2 and all(c.name.endswith(".jpg") for c in cleaned)
