"""Pages of long demand lists that cost the same on the first page and the thousandth: keyset cursors and a
capped count.

A page is opened by a cursor naming the last (or first) row of the page before it in the list's ordering,
so the query reads the rows after that key from an index and never skips an OFFSET; the ordering ends
with the primary key, so rows sharing the first keys (demands filed in the same microsecond) are neither
lost nor repeated between pages. How many rows match is counted up to `COUNT_CAP` and shown as "1,000+"
beyond it: a COUNT over millions of rows on every view is what made the lists slow.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

COUNT_CAP = 1000
DEFAULT_ORDER: tuple[str, ...] = ("-created_at", "-id")


@dataclass(frozen=True)
class CappedCount:
    """How many rows match, counted no further than a cap: `capped` means more than `value`."""

    value: int
    capped: bool

    @property
    def figure(self) -> str:
        """The number with thousands separators ("1,000"); a capped count is shown followed by "+"."""
        return f"{self.value:,}"

    def __str__(self) -> str:
        return f"{self.figure}+" if self.capped else self.figure


def capped_count(qs: QuerySet[Any], *, cap: int | None = None) -> CappedCount:
    """`SELECT COUNT(*) FROM (… LIMIT cap + 1)`: reads at most cap + 1 rows, whatever the table holds."""
    cap = COUNT_CAP if cap is None else cap
    found = qs.order_by().values("pk")[: cap + 1].count()
    return CappedCount(value=min(found, cap), capped=found > cap)


# --- cursors ------------------------------------------------------------------------------------


def _encode_value(value: Any) -> list[Any]:
    if isinstance(value, dt.datetime):
        return ["t", value.isoformat()]
    if isinstance(value, int) and not isinstance(value, bool):
        return ["i", value]
    if isinstance(value, str):
        return ["s", value]
    raise TypeError(f"a keyset cursor cannot hold {type(value).__name__}")


def _decode_value(item: Any) -> Any:
    kind, value = item
    if kind == "t" and isinstance(value, str):
        parsed = dt.datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("a cursor's time names its zone")
        return parsed
    if kind == "i" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "s" and isinstance(value, str):
        return value
    raise ValueError(item)


def encode_cursor(direction: str, values: Sequence[Any]) -> str:
    """An opaque cursor: "a" (the rows after these keys) or "b" (the rows before them)."""
    text = json.dumps([direction, [_encode_value(v) for v in values]], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, keys: int) -> tuple[str, list[Any]] | None:
    """The direction and key values of a cursor, or None for one this list cannot read (a page then opens
    the first page, as an old or mistyped link should)."""
    if not cursor or len(cursor) > 512:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
        direction, raw = data
        if direction not in ("a", "b") or not isinstance(raw, list) or len(raw) != keys:
            return None
        return direction, [_decode_value(item) for item in raw]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None


def _beyond(order: Sequence[str], values: Sequence[Any], *, forward: bool) -> Q:
    """Rows strictly after (`forward`) or before `values` in `order`, as a lexicographic condition.

    The first key is also bounded on its own (`created_at <= c`), which lets the database read an index
    range on it instead of testing the OR on every row.
    """
    fields = [name.lstrip("-") for name in order]
    lookups = []
    for name in order:
        descending = name.startswith("-")
        lookups.append("lt" if descending == forward else "gt")
    condition = Q()
    for i, field in enumerate(fields):
        term = Q(**{f"{field}__{lookups[i]}": values[i]})
        for j in range(i):
            term &= Q(**{fields[j]: values[j]})
        condition |= term
    return Q(**{f"{fields[0]}__{lookups[0]}e": values[0]}) & condition


# --- a page -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeysetPage:
    """One page of rows, the cursors around it and the capped count of the whole list."""

    rows: list[Any]
    count: CappedCount
    next_cursor: str | None
    previous_cursor: str | None

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous


def keyset_page(
    qs: QuerySet[Any],
    *,
    cursor: str | None,
    size: int,
    order: Sequence[str] = DEFAULT_ORDER,
    cap: int | None = None,
) -> KeysetPage:
    """The page of `qs` that `cursor` opens (the first page without one), `size` rows in `order`.

    `order` must end with a unique key ("-id") and name columns that are never NULL. Reads size + 1 rows
    (the extra one says whether a page lies beyond) and the capped count: two queries, whatever the depth.
    """
    fields = [name.lstrip("-") for name in order]
    decoded = decode_cursor(cursor or "", keys=len(order))
    count = capped_count(qs, cap=cap)
    if decoded is None:
        rows = _rows(qs.order_by(*order), size + 1)
        more = len(rows) > size
        rows = rows[:size]
        return KeysetPage(
            rows=rows, count=count, next_cursor=_cursor("a", rows[-1], fields) if more else None, previous_cursor=None
        )
    direction, values = decoded
    if direction == "a":
        rows = _rows(qs.filter(_beyond(order, values, forward=True)).order_by(*order), size + 1)
        more = len(rows) > size
        rows = rows[:size]
        return KeysetPage(
            rows=rows,
            count=count,
            next_cursor=_cursor("a", rows[-1], fields) if more else None,
            # A page reached by "next" has rows before it; empty (its rows gone meanwhile), it offers them back.
            previous_cursor=encode_cursor("b", _values(rows[0], fields) if rows else values),
        )
    reverse = [name[1:] if name.startswith("-") else f"-{name}" for name in order]
    rows = _rows(qs.filter(_beyond(order, values, forward=False)).order_by(*reverse), size + 1)
    more = len(rows) > size
    rows = rows[:size][::-1]
    return KeysetPage(
        rows=rows,
        count=count,
        next_cursor=encode_cursor("a", _values(rows[-1], fields) if rows else values),
        previous_cursor=_cursor("b", rows[0], fields) if more else None,
    )


def _rows(ordered: QuerySet[Any], limit: int) -> list[Any]:
    """The first `limit` rows of `ordered`: their ids first, from the table alone, then those rows with
    everything the queryset joins. Joined first, the database would join every matching row before
    sorting and cutting (a queue of thousands) instead of the page."""
    ids = list(ordered.values_list("pk", flat=True)[:limit])
    found = {row.pk: row for row in ordered.filter(pk__in=ids)} if ids else {}
    return [found[pk] for pk in ids if pk in found]


def _values(row: Any, fields: Sequence[str]) -> list[Any]:
    return [getattr(row, "pk" if f == "id" else f) for f in fields]


def _cursor(direction: str, row: Any, fields: Sequence[str]) -> str:
    return encode_cursor(direction, _values(row, fields))
