"""Photos: real image bytes made with Pillow, the size cap, fakes, truncation, and EXIF GPS."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from wangge.core.errors import ValidationFailed
from wangge.core.photos import MAX_PHOTOS, clean_photo, clean_photos


def jpeg_bytes(*, size: tuple[int, int] = (64, 48), exif: Any = None, color: str = "green") -> bytes:
    buf = io.BytesIO()
    img = Image.new("RGB", size, color)
    if exif is not None:
        img.save(buf, format="JPEG", exif=exif)
    else:
        img.save(buf, format="JPEG")
    return buf.getvalue()


def gps_exif(lat: float, lng: float, *, lat_ref: str = "N", lng_ref: str = "E") -> Image.Exif:
    """EXIF with a GPS block and a camera owner (which must not survive cleaning)."""

    def dms(value: float) -> tuple[float, float, float]:
        d = int(value)
        m_float = (value - d) * 60
        m = int(m_float)
        s = round((m_float - m) * 60, 4)
        return (float(d), float(m), s)

    exif = Image.Exif()
    exif[0x013B] = "张三"  # Artist
    exif[0x0110] = "PhoneModel X"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1] = lat_ref
    gps[2] = dms(lat)
    gps[3] = lng_ref
    gps[4] = dms(lng)
    return exif


def upload(data: bytes, name: str = "p.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_jpeg_with_gps_keeps_position_and_drops_exif() -> None:
    raw = jpeg_bytes(exif=gps_exif(28.1543, 113.6321))
    assert b"PhoneModel X" in raw  # the input really carries metadata
    photo = clean_photo(upload(raw, name="张三的照片.jpg"))
    assert photo.lat == pytest.approx(28.1543, abs=1e-4)
    assert photo.lng == pytest.approx(113.6321, abs=1e-4)
    out = photo.content.read()
    assert b"PhoneModel X" not in out
    reopened = Image.open(io.BytesIO(out))
    assert reopened.format == "JPEG"
    assert not reopened.getexif()
    assert reopened.size == (64, 48)
    # the person's file name (their name) is not reused
    assert "张三" not in photo.name and photo.name.endswith(".jpg")
    assert photo.content.name == photo.name


def test_southern_western_refs_are_negative() -> None:
    photo = clean_photo(upload(jpeg_bytes(exif=gps_exif(33.5, 70.25, lat_ref="S", lng_ref="W"))))
    assert photo.lat == pytest.approx(-33.5, abs=1e-4)
    assert photo.lng == pytest.approx(-70.25, abs=1e-4)


def test_zero_zero_gps_means_unknown() -> None:
    photo = clean_photo(upload(jpeg_bytes(exif=gps_exif(0.0, 0.0))))
    assert photo.lat is None and photo.lng is None


def test_png_without_gps() -> None:
    buf = io.BytesIO()
    Image.new("RGBA", (20, 20), (255, 0, 0, 128)).save(buf, format="PNG")
    photo = clean_photo(upload(buf.getvalue(), name="shot.png", content_type="image/png"))
    assert photo.lat is None and photo.lng is None
    assert photo.name.endswith(".png")
    assert Image.open(io.BytesIO(photo.content.read())).mode == "RGBA"


def test_opaque_png_becomes_jpeg() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (20, 20), "blue").save(buf, format="PNG")
    photo = clean_photo(upload(buf.getvalue(), name="shot.png", content_type="image/png"))
    assert photo.name.endswith(".jpg")
    assert Image.open(io.BytesIO(photo.content.read())).format == "JPEG"


def test_large_image_is_scaled_down() -> None:
    photo = clean_photo(upload(jpeg_bytes(size=(4000, 3000))))
    assert max(Image.open(io.BytesIO(photo.content.read())).size) == 2560


def test_exif_orientation_is_applied_before_stripping() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    photo = clean_photo(upload(jpeg_bytes(size=(60, 30), exif=exif)))
    assert Image.open(io.BytesIO(photo.content.read())).size == (30, 60)


def test_thirty_megabyte_file_is_refused(settings: Any) -> None:
    settings.UPLOAD_MAX_IMAGE_BYTES = 10 * 1024 * 1024
    big = jpeg_bytes() + b"\0" * (30 * 1024 * 1024)
    with pytest.raises(ValidationFailed) as err:
        clean_photo(upload(big))
    assert err.value.field == "photos"
    assert "10 MB" in err.value.zh and "10 MB" in err.value.en


def test_size_cap_applies_without_a_size_attribute(settings: Any) -> None:
    settings.UPLOAD_MAX_IMAGE_BYTES = 1000
    with pytest.raises(ValidationFailed):
        clean_photo(io.BytesIO(b"x" * 2000))


def test_text_renamed_jpg_is_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        clean_photo(upload("路灯坏了，请尽快修理".encode() * 20, name="lamp.jpg"))
    assert err.value.field == "photos"
    assert "不是图片" in err.value.zh and "not an image" in err.value.en


def test_truncated_image_is_refused() -> None:
    raw = jpeg_bytes(size=(400, 300), color="red")
    with pytest.raises(ValidationFailed) as err:
        clean_photo(upload(raw[: len(raw) // 2]))
    assert "损坏" in err.value.zh


def test_empty_file_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        clean_photo(upload(b""))


def test_unsupported_format_is_refused() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, format="BMP")
    with pytest.raises(ValidationFailed) as err:
        clean_photo(upload(buf.getvalue(), name="x.jpg"))
    assert "BMP" in err.value.zh


def test_too_many_photos() -> None:
    files = [upload(jpeg_bytes()) for _ in range(MAX_PHOTOS + 1)]
    with pytest.raises(ValidationFailed) as err:
        clean_photos(files)
    assert err.value.code == "too_many_photos"
    assert len(clean_photos(files[:MAX_PHOTOS])) == MAX_PHOTOS
