"""Factories for tests in any app: plain `make_<thing>(**overrides)` functions over the real services."""

from __future__ import annotations

import itertools
from typing import Any

from wangge.demands.models import Category, Demand
from wangge.demands.services import demand_submit

_seq = itertools.count(1)


def make_category(**overrides: Any) -> Category:
    """A second-level category under a fresh first level (limits as given, or the model defaults)."""
    n = next(_seq)
    parent = overrides.pop("parent", None) or Category.objects.create(code=f"T{n:03d}", name=f"测试大类{n}")
    data: dict[str, Any] = {"code": f"T{n:03d}01", "name": f"测试类别{n}", "parent": parent}
    data.update(overrides)
    return Category.objects.create(**data)


def make_demand(*, grid: Any = None, **overrides: Any) -> Demand:
    """A demand submitted through `demand_submit` (resident page by default) into `grid`."""
    n = next(_seq)
    data: dict[str, Any] = {
        "channel": "resident_web",
        "title": f"路灯不亮{n}",
        "description": f"小区门口的路灯坏了好几天了（{n}）",
        "reporter_name": "李四",
        "reporter_phone": "13900001234",
    }
    data.update(overrides)
    if grid is not None:
        data["grid"] = grid
    return demand_submit(**data).demand
