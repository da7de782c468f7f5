"""A bundle's "6310" figures, computed from its items (never typed), and its combined form.

How each figure is counted (shown on the pages too):
- materials: distinct materials over all items, each counted once, leaving out what another item
  of the same bundle issues (the seal office accepts the registration's licence: 结果互认);
- steps: 1 window acceptance (一窗受理) + 1 parallel handling by all departments at once (并联办理)
  + 1 issuance of every result together (一次送达) = 3 for any bundle with items;
- working days: the longest item limit, since the departments work in parallel;
- fees: the sum of the item fees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from wangge.onestop.facts import APPLICANT_KEYS, FACTS, Fact, ordered_keys

if TYPE_CHECKING:
    from wangge.onestop.models import Material, ServiceBundle, ServiceItem

STEP_WINDOW = 1
STEP_PARALLEL = 1
STEP_ISSUE = 1


@dataclass(frozen=True)
class Figures:
    materials: int
    steps: int
    days: int
    fee_fen: int
    items: int
    separate_materials: int  # what the items would ask if each were applied for on its own
    separate_steps: int  # each item on its own: apply, wait, collect

    @property
    def fee_yuan(self) -> str:
        return f"{self.fee_fen / 100:.2f}".rstrip("0").rstrip(".") if self.fee_fen else "0"

    def as_dict(self) -> dict[str, int]:
        return {"materials": self.materials, "steps": self.steps, "days": self.days, "fee_fen": self.fee_fen}


def bundle_items(bundle: ServiceBundle) -> list[ServiceItem]:
    """The bundle's items in order (uses a prefetch of bundle_items__item__materials when present)."""
    return [bi.item for bi in bundle.bundle_items.all()]


def combined_materials(items: list[ServiceItem]) -> list[Material]:
    """Each material once, in item order, minus the results that items of the bundle issue themselves."""
    produced = {item.produces_id for item in items if item.produces_id}
    seen: dict[int, Material] = {}
    for item in items:
        for material in sorted(item.materials.all(), key=lambda m: m.code):
            if material.pk not in produced and material.pk not in seen:
                seen[material.pk] = material
    return list(seen.values())


def combined_fact_keys(items: list[ServiceItem]) -> list[str]:
    """The union of the items' facts, each once, in catalogue order; the applicant always (one identity check)."""
    keys: list[str] = list(APPLICANT_KEYS)
    for item in items:
        keys.extend(item.form_fields)
    return ordered_keys(keys)


def combined_facts(items: list[ServiceItem]) -> list[Fact]:
    return [FACTS[k] for k in combined_fact_keys(items) if k in FACTS]


def figures_for(items: list[ServiceItem]) -> Figures:
    if not items:
        return Figures(0, 0, 0, 0, 0, 0, 0)
    return Figures(
        materials=len(combined_materials(items)),
        steps=STEP_WINDOW + STEP_PARALLEL + STEP_ISSUE,
        days=max(item.time_limit_days for item in items),
        fee_fen=sum(item.fee_fen for item in items),
        items=len(items),
        separate_materials=sum(len(item.materials.all()) for item in items),
        separate_steps=3 * len(items),
    )


def bundle_figures(bundle: ServiceBundle) -> Figures:
    return figures_for(bundle_items(bundle))


def keeps_promise(bundle: ServiceBundle, figures: Figures) -> dict[str, bool]:
    """Which computed figures are within the bundle's published promise (None promise: nothing to keep)."""
    pairs = {
        "materials": (figures.materials, bundle.promised_materials),
        "steps": (figures.steps, bundle.promised_steps),
        "days": (figures.days, bundle.promised_days),
        "fee": (figures.fee_fen, bundle.promised_fee_fen),
    }
    return {k: promise is None or value <= promise for k, (value, promise) in pairs.items()}
