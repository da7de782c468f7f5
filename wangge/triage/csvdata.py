"""Reading labelled or unlabelled message exports (CSV, UTF-8 or GB18030) for the triage commands."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wangge.core.errors import ValidationFailed
from wangge.core.text import Listed

csv.field_size_limit(10_000_000)


@dataclass(frozen=True)
class Row:
    id: str
    title: str
    body: str
    label: str
    raw: dict[str, str]


def parse_columns(spec: str) -> list[str]:
    cols = [c.strip() for c in (spec or "").split(",") if c.strip()]
    if not cols:
        raise ValidationFailed(_("give text columns, e.g. title,body"), field="text")
    return cols


def _open_text(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed(_("unknown file encoding (use UTF-8)"), field="csv")


def read_rows(path: str | Path, *, text: str, label: str | None = None) -> list[Row]:
    """Rows with title (first text column), body (the other text columns) and label when asked for."""
    p = Path(path)
    if not p.is_file():
        raise ValidationFailed(_("file not found: %(path)s"), params={"path": p}, field="csv")
    cols = parse_columns(text)
    reader = csv.DictReader(_open_text(p).splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in [*cols, *([label] if label else [])] if c not in header]
    if missing:
        raise ValidationFailed(
            _("missing columns: %(missing)s (found: %(header)s)"),
            params={"missing": Listed(missing), "header": Listed(header)},
            field="csv",
        )
    rows: list[Row] = []
    for n, raw in enumerate(reader, start=2):
        raw = {k: (v or "") for k, v in raw.items() if k is not None}
        title = raw.get(cols[0], "").strip()
        body = "。".join(raw.get(c, "").strip() for c in cols[1:] if raw.get(c, "").strip())
        lab = raw.get(label, "").strip() if label else ""
        if not title and not body:
            continue
        if label and not lab:
            continue  # unlabelled rows teach nothing and cannot be scored
        rows.append(Row(id=raw.get("id", "").strip() or str(n), title=title, body=body, label=lab, raw=raw))
    if not rows:
        raise ValidationFailed(_("the file has no usable rows"), field="csv")
    return rows


def parse_datetime(value: str) -> dt.datetime | None:
    """'2019-02-14 20:00:00', '2019/2/14 20:00', '2019-02-14' → aware datetime in the local zone."""
    value = (value or "").strip()
    if not value:
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
        try:
            parsed = dt.datetime.strptime(value, fmt)
        except ValueError:
            continue
        return timezone.make_aware(parsed)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def to_int(value: str) -> int:
    try:
        return int(float((value or "0").strip() or 0))
    except ValueError:
        return 0
