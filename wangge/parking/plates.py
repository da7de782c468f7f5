"""Chinese licence plates: normalise what a warden types, check it, and mask it on lists."""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext_lazy as _

from wangge.core.errors import ValidationFailed

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_L = "A-HJ-NP-Z"  # letters on plates: I and O are never used (they read as 1 and 0)
PLATE_RE = re.compile(
    rf"^[{PROVINCES}][{_L}]("
    rf"[{_L}0-9]{{4}}[{_L}0-9挂学警港澳]"  # ordinary blue and yellow plates: 湘A12345, 湘A1B2C3 …
    rf"|[DF][{_L}0-9][0-9]{{4}}"  # new-energy small cars: 湘AD12345, 湘AF1A234
    rf"|[0-9]{{5}}[DF]"  # new-energy large vehicles: 湘A12345D
    rf")$"
)


def normalise_plate(raw: str) -> str:
    """湘A·12345, ' 湘a 12345 ', full-width letters → 湘A12345."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = re.sub(r"[\s·.\-_•・]", "", text)
    return text.upper()


def clean_plate(raw: str, *, field_name: str = "plate") -> str:
    """The normalised plate, or a bilingual error naming what a plate looks like."""
    plate = normalise_plate(raw)
    if not plate:
        raise ValidationFailed(_("enter the plate number"), field=field_name)
    if not PLATE_RE.match(plate):
        raise ValidationFailed(
            _("'%(plate)s' is not a valid plate (e.g. 湘A12345, new-energy 湘AD12345)"),
            params={"plate": plate},
            field=field_name,
        )
    return plate


def mask_plate(plate: str) -> str:
    """湘A1**45 for 湘A12345, 湘AD***45 for 湘AD12345: province, city letter, one more, the last two."""
    if len(plate) <= 5:
        return plate[:2] + "*" * max(0, len(plate) - 2)
    return plate[:3] + "*" * (len(plate) - 5) + plate[-2:]
