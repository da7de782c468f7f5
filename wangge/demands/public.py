"""What the public sees of a demand: the one place that decides it (public pages, the Open311 feed).

`public_view(demand)` gives a `PublicDemand`:

- text: the text a staff member approved (`public_text`), else the reporter's own words when they
  agreed to publish them at intake (`publish_consent`), redacted of phones, ID numbers, house numbers
  and their name, else a neutral sentence from the category ("反映了一件「路灯」类诉求"). A staff
  decision not to publish (`public_approved_at` set with an empty `public_text`) wins over consent;
- place: the village or community name and the road of the address (`coarse_address`), never a
  house number; the point rounded to 3 decimals (about 100 m); a distance to it in 100 m steps
  (`public_distance`, the duplicate offer);
- never the reporter's name, phone or household, and no staff-only note.

Reports (举报) and confidential demands (保密) are never published at all (their readers exclude them
before this, with `permissions.confidential_q`).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from wangge.core import clock
from wangge.core.errors import render_both
from wangge.demands.models import Demand
from wangge.demands.permissions import confidential_q, moderation_q
from wangge.registry.models import Area, Level

POINT_DECIMALS = 3  # ~100 m: the map shows the street, not the door
DISTANCE_STEP_M = 100  # a distance shown to the public is as coarse as the point (a door is not findable)
HIDDEN = "**"

_WIDE_DIGITS = str.maketrans("０１２３４５６７８９－＃", "0123456789-#")
_NUMERAL = r"[0-9一二三四五六七八九十百零〇两]"
# House numbers and what follows them: 128号, 3栋2单元201室, 5号楼, 12幢, 3-2-201, 二单元.
_HOUSE_UNIT = r"(?:号楼|号院|号|栋|幢|座|单元|室|楼|层|户|门)"
_HOUSE = re.compile(rf"(?:{_NUMERAL}+\s*[-#]?\s*{_HOUSE_UNIT}\s*[-#]?\s*)+\d*(?:室)?|\d+(?:-\d+){{1,3}}")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])|(?<!\d)\d{15}(?!\d)")
# "王先生", "李阿姨": the surname goes.
_TITLED = re.compile(r"[\u4e00-\u9fa5](?=先生|女士|小姐|阿姨|大爷|大妈|大娘|师傅|奶奶|爷爷|老师)")
# "我叫王五", "联系人：李四".
_NAMED = re.compile(r"((?:我叫|本人|姓名|联系人|户主)[:：\s]*)[\u4e00-\u9fa5]{2,3}")
# A road: a name and its road word, not a sub-district (街道) and not across administrative words.
_ROAD = re.compile(r"[^\s省市县区镇乡组道街路巷0-9,，、]{1,10}(?:大道|大街|路|街|巷|胡同)(?![道办])")


@dataclass(frozen=True)
class PublicDemand:
    """A demand as anyone may see it."""

    code: str
    title: str
    description: str
    place: str  # village or community and road, Chinese reading order: 金沙社区金沙北路
    address: str  # the same from most specific to most general, with the town (Open311's order)
    village: Area | None
    lat: float | None
    lng: float | None
    source: str  # "approved", "consent" or "neutral": where the text came from


def public_distance(metres: float | None) -> int | None:
    """How far another demand is, as the public may see it: in steps of `DISTANCE_STEP_M`, at least one
    step ("within 100 m"), so that distances seen from several spots cannot locate a door."""
    if metres is None:
        return None
    steps = max(1, int(metres / DISTANCE_STEP_M + 0.5))  # half up, not to even
    return int(steps * DISTANCE_STEP_M)


def _ancestor(area: Area | None, level: str) -> Area | None:
    node = area
    while node is not None and node.level != level:
        node = node.parent if node.parent_id else None
    return node


def coarse_address(address: str, *, village: str = "") -> str:
    """The village or community name and the road of `address`, without numbers of any kind.

    `金沙北路128号3栋2单元201室`, village 金沙社区 → 金沙社区金沙北路. No road found: the village alone.
    """
    text = (address or "").translate(_WIDE_DIGITS)
    text = _ID_NUMBER.sub(" ", _LANDLINE.sub(" ", _MOBILE.sub(" ", text)))
    # Everything from the first house number on is the door, never the street.
    door = _HOUSE.search(text)
    if door is not None:
        text = text[: door.start()]
    text = re.sub(r"\d.*", "", text)  # a bare number ("金沙北路 128") starts the door too
    match = _ROAD.search(text)
    road = match.group(0) if match else ""
    if village and road.startswith(village):
        road = road[len(village) :]
    return f"{village}{road}"


def redact(text: str, *, names: Iterable[str] = ()) -> str:
    """`text` without phone and ID numbers, house numbers and the given names (and the obvious others)."""
    out = (text or "").translate(_WIDE_DIGITS)
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        out = out.replace(name, HIDDEN)
    out = _ID_NUMBER.sub(HIDDEN, out)
    out = _MOBILE.sub(HIDDEN, out)
    out = _LANDLINE.sub(HIDDEN, out)
    out = _HOUSE.sub(HIDDEN, out)
    out = _NAMED.sub(lambda m: m.group(1) + HIDDEN, out)
    return _TITLED.sub("某", out)


def _known_names(demand: Demand) -> list[str]:
    names = [demand.reporter_name]
    household = demand.household if demand.household_id else None
    if household is not None:
        names.append(household.head_name)
    return names


def proposed_text(demand: Demand) -> str:
    """What a moderator starts from: the reporter's words, redacted as far as can be detected."""
    return redact(demand.description, names=_known_names(demand)).strip()


def neutral_message(demand: Demand) -> Any:
    """The sentence shown when nothing may be published (lazy: rendered in the reader's language)."""
    category = demand.category if demand.category_id else None
    if category is None:
        return _("A demand (not yet classified)")
    return _("A demand about “%(category)s”") % {"category": category.name}


def neutral_both(demand: Demand) -> str:
    """The neutral sentence in Chinese and English (the Open311 feed says everything in both)."""
    category = demand.category if demand.category_id else None
    return _neutral_both(category.name if category is not None else None)


@functools.lru_cache(maxsize=1024)
def _neutral_both(category_name: str | None) -> str:
    # Rendered once per category name and process: the feed says it of most of its up to 1,000 rows, and
    # rendering switches the language twice.
    if category_name is None:
        zh, en = render_both(_("A demand (not yet classified)"))
    else:
        zh, en = render_both(_("A demand about “%(category)s”"), {"category": category_name})
    return f"{zh} / {en}"


def text_source(demand: Demand) -> str:
    """Which text the public reads: "approved", "consent" or "neutral"."""
    if demand.public_approved_at is not None:
        return "approved" if demand.public_text.strip() else "neutral"
    return "consent" if demand.publish_consent else "neutral"


def _title_of(text: str) -> str:
    first = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return first[:40]


def public_view(demand: Demand) -> PublicDemand:
    """The demand as the public sees it (see the module's docstring for the rules)."""
    source = text_source(demand)
    if source == "approved":
        description = redact(demand.public_text).strip()  # numbers a moderator overlooked still go
        title = _title_of(description)
    elif source == "consent":
        description = proposed_text(demand)
        title = redact(demand.title, names=_known_names(demand)).strip() or _title_of(description)
    else:
        description = title = str(neutral_message(demand))
    area = demand.area if demand.area_id else None
    village = _ancestor(area, Level.VILLAGE)
    town = _ancestor(area, Level.TOWN)
    place = coarse_address(demand.address, village=village.name if village else "")
    road = place[len(village.name) :] if village else place
    if not place and town is not None:
        place = town.name
    address = "，".join(p for p in (road, village.name if village else "", town.name if town else "") if p)
    lat = round(demand.lat, POINT_DECIMALS) if demand.lat is not None else None
    lng = round(demand.lng, POINT_DECIMALS) if demand.lng is not None else None
    return PublicDemand(
        code=demand.code,
        title=title,
        description=description,
        place=place,
        address=address,
        village=village,
        lat=lat,
        lng=lng,
        source=source,
    )


# Related rows public_view reads: select them with the demand (a grid's village is three levels up).
PUBLIC_RELATED = ("category", "household", "area__parent__parent__parent")


# --- the moderation queue (公开审核) ----------------------------------------------------------

MODERATION_DAYS = 60  # the waiting list reaches this far back; older undecided demands stay neutral
MODERATION_STATUSES = ("waiting", "published", "withheld")


def moderation_queue(*, user: Any, status: str = "waiting") -> QuerySet[Demand]:
    """Demands of `user`'s moderation scope (`permissions.moderation_q`), newest first: "waiting" (no
    decision yet, recent), "published" (an approved text), "withheld" (decided: nothing published) or
    "any" (all of them, to find the one a decision is about)."""
    qs = (
        Demand.objects.filter(moderation_q(user))
        .exclude(confidential_q())  # never published, so never in the queue
        .select_related(*PUBLIC_RELATED, "public_approved_by")
    )
    if status == "published":
        qs = qs.filter(public_approved_at__isnull=False).exclude(public_text="")
    elif status == "withheld":
        qs = qs.filter(public_approved_at__isnull=False, public_text="")
    elif status == "waiting":
        since = clock.now() - dt.timedelta(days=MODERATION_DAYS)
        qs = qs.filter(public_approved_at__isnull=True, created_at__gte=since)
    return qs.order_by("-created_at", "-id")
