"""Small pure generators: totals split into parts, household sizes, ID numbers, names, ordinals."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from typing import Any

from django.conf import settings

from wangge.registry.demo.plans import (
    CITY_CODE,
    CN_NUM,
    GIVEN_FEMALE,
    GIVEN_MALE,
    REFERENCE_DAY,
    SURNAMES,
    VILLAGE_FIRST,
    VILLAGE_SECOND,
)

_SURNAME_CHARS = [s for s, _ in SURNAMES]
_SURNAME_CUM = list(itertools.accumulate(w for _, w in SURNAMES))


def split_total(total: int, parts: int, rng: random.Random, *, jitter: float, minimum: int = 1) -> list[int]:
    """Split `total` into `parts` positive integers around the mean (largest remainder), summing exactly."""
    if parts <= 0:
        return []
    if total < parts * minimum:
        raise ValueError(f"cannot split {total} into {parts} parts of at least {minimum}")
    weights = [1.0 + rng.uniform(-jitter, jitter) for _ in range(parts)]
    spare = total - parts * minimum
    scale = spare / sum(weights)
    raw = [w * scale for w in weights]
    out = [minimum + int(r) for r in raw]
    short = total - sum(out)
    order = sorted(range(parts), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    for i in order[:short]:
        out[i] += 1
    return out


def household_sizes(n_grids: int, total: int, rng: random.Random) -> list[int]:
    """Households per grid: mostly the advised 10-15, a few outside, none over the hard limit."""
    hard = settings.GRID_HARD_MAX
    lo, hi = settings.GRID_ADVISED_MIN, settings.GRID_ADVISED_MAX
    if total > n_grids * hard:
        raise ValueError(f"{total} households do not fit in {n_grids} grids of at most {hard}")
    sizes = []
    for _ in range(n_grids):
        r = rng.random()
        if r < 0.03:
            sizes.append(rng.randint(4, lo - 1))  # a small hamlet or a half-empty block
        elif r < 0.05:
            sizes.append(rng.randint(hi + 1, 24))  # a grid that should be split
        else:
            sizes.append(rng.choices(range(lo, hi + 1), weights=(8, 12, 17, 22, 22, 19))[0])
    # Nudge grids inside the advised band (then, if need be, any grid) until the sum is exact.
    diff = total - sum(sizes)
    step = 1 if diff > 0 else -1
    for band_lo, band_hi in ((lo, hi), (1, hard)):
        candidates = list(range(n_grids))
        rng.shuffle(candidates)
        while diff:
            moved = False
            for i in candidates:
                if not diff:
                    break
                s = sizes[i] + step
                if band_lo <= s <= band_hi:
                    sizes[i] = s
                    diff -= step
                    moved = True
            if not moved:
                break
    if diff:
        raise ValueError("could not place every household")
    return sizes


def id_number(rng: random.Random, *, region: str = CITY_CODE, min_age: int = 22, max_age: int = 88) -> str:
    """A made-up 18-digit ID number with a valid checksum (GB 11643)."""
    days = rng.randint(min_age * 365, max_age * 365)
    born = REFERENCE_DAY - dt.timedelta(days=days)
    body = f"{region}{born:%Y%m%d}{rng.randint(0, 999):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(body[i]) * weights[i] for i in range(17))
    return body + "10X98765432"[total % 11]


def unique_id_number(rng: random.Random, used: set[str], **kw: Any) -> str:
    """An ID number not handed out before in this demo (two heads never share one)."""
    while True:
        value = id_number(rng, **kw)
        if value not in used:
            used.add(value)
            return value


def person_name(rng: random.Random) -> str:
    surname = rng.choices(_SURNAME_CHARS, cum_weights=_SURNAME_CUM)[0]
    pool = GIVEN_MALE if rng.random() < 0.5 else GIVEN_FEMALE
    if rng.random() < 0.72:
        return surname + rng.choice(pool) + rng.choice(pool)
    return surname + rng.choice(pool)


def village_bases(n: int, rng: random.Random) -> list[str]:
    """`n` distinct two-character place names (金沙, 石柱, 枫林 …)."""
    combos = [a + b for a in VILLAGE_FIRST for b in VILLAGE_SECOND if a != b]
    if n > len(combos):
        raise ValueError("too many villages for the name generator")
    return rng.sample(combos, n)


def cn_ordinal(n: int) -> str:
    if n <= 10:
        return CN_NUM[n - 1]
    if n < 20:
        return "十" + CN_NUM[n - 11]
    tens, ones = divmod(n, 10)
    return CN_NUM[tens - 1] + "十" + (CN_NUM[ones - 1] if ones else "")
