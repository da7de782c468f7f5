"""Hot issues of a window read from the hot clusters: a GROUP BY over the window's demands, then the top groups.

`hotclusters` put every demand in a cluster when the worker first saw it; here a window's groups
are the clusters with two demands or more in it, counted in SQL (size, system-filed records,
distinct reporters, areas), completed by the window's followers and merged demands (both few), and
ranked by the same heat (`similarity.heat_of`). Only the members of the groups kept are read, and
`similarity.describe_groups` counts, names and orders them as the from-scratch grouping does; the
key words are rare among the kept groups' demands (the from-scratch grouping: among the period's).

What differs from `selectors.hot_issues` (grouping from scratch) is which demands are grouped
together (an approximation measured by bench/bench_hot_clusters.py), and that the whole window is
read (the from-scratch grouping reads the newest 20,000). Merged demands are left out as there;
withdrawn and confidential demands are in, as there (the pages list only the demands a user may see).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When
from django.db.models.functions import Cast, Concat

from wangge.triage.models import HotMember
from wangge.triage.selectors import is_system_filed
from wangge.triage.similarity import HotGroup, HotRecord, describe_groups, heat_of

# A record no person filed (`selectors.is_system_filed`), as a condition on HotMember rows.
SYSTEM_Q = Q(demand__channel="inspection", demand__reporter_phone="", demand__household_id__isnull=True)


def _members(*, since: dt.datetime, area_path: str | None) -> QuerySet[HotMember]:
    qs = HotMember.objects.filter(demand__created_at__gte=since)
    if area_path:
        qs = qs.filter(demand__area_path__startswith=area_path)
    return qs.exclude(demand__state="merged")


def _person() -> Case:
    """Who filed a demand, as `selectors.hot_issues` names them: phone, else household, else the demand."""
    return Case(
        When(SYSTEM_Q, then=Value(None)),
        When(~Q(demand__reporter_phone=""), then=F("demand__reporter_phone")),
        When(demand__household_id__isnull=False, then=Concat(Value("h"), Cast("demand__household_id", CharField()))),
        default=Concat(Value("d"), Cast("demand_id", CharField())),
        output_field=CharField(),
    )


def clustered_hot_issues(*, since: dt.datetime, area_path: str | None = None, top: int = 10) -> list[HotGroup]:
    """The hot issues of the demands created since `since` (under an area when given), hottest first."""
    from wangge.demands.models import Demand, DemandFollower

    members = _members(since=since, area_path=area_path)
    counted = {
        row["cluster_id"]: row
        for row in members.values("cluster_id")
        .annotate(
            size=Count("pk"),
            system=Count("pk", filter=SYSTEM_Q),
            reporters=Count(_person(), distinct=True),
            areas=Count("demand__area_path", distinct=True),
        )
        .filter(size__gte=2)
    }
    if not counted:
        return []
    # Followers and merged demands are few: read them for the window, then map them to clusters.
    fq = DemandFollower.objects.filter(demand__created_at__gte=since).exclude(demand__state="merged")
    mq = Demand.objects.filter(merged_into__isnull=False, merged_into__created_at__gte=since).exclude(
        merged_into__state="merged"
    )
    if area_path:
        fq = fq.filter(demand__area_path__startswith=area_path)
        mq = mq.filter(merged_into__area_path__startswith=area_path)
    followers: dict[int, list[str]] = defaultdict(list)
    for demand_id, phone in fq.values_list("demand_id", "phone"):
        followers[demand_id].append(phone)
    support: dict[int, int] = dict(
        mq.values("merged_into_id").annotate(n=Count("pk")).values_list("merged_into_id", "n")  # type: ignore[arg-type]
    )
    cluster_of = dict(
        HotMember.objects.filter(demand_id__in=[*followers, *support]).values_list("demand_id", "cluster_id")
    )
    cluster_support: dict[int, int] = defaultdict(int)
    for demand_id, n in support.items():
        cluster_support[cluster_of.get(demand_id, 0)] += n
    followed: dict[int, set[str]] = defaultdict(set)
    for demand_id, phones in followers.items():
        followed[cluster_of.get(demand_id, 0)].update(p for p in phones if p)
    people: dict[int, int] = {c: row["reporters"] for c, row in counted.items()}
    with_followers = [c for c in followed if c in counted]
    if with_followers:
        reporters: dict[int, set[str]] = defaultdict(set)
        rows = (
            members.filter(cluster_id__in=with_followers).annotate(person=_person()).values_list("cluster_id", "person")
        )
        for cluster_id, person in rows:
            if person is not None:
                reporters[cluster_id].add(person)
        for c in with_followers:
            people[c] = len(reporters[c] | followed[c])

    def heat(c: int) -> float:
        row = counted[c]
        return heat_of(
            size=row["size"] - row["system"],
            users=people[c],
            areas=row["areas"] or 1,
            support=cluster_support.get(c, 0),
            records=row["system"],
        )

    ranked = sorted(counted, key=lambda c: (-heat(c), -counted[c]["size"]))
    if len(ranked) > top:
        floor = heat(ranked[top - 1])
        ranked = [c for c in ranked if heat(c) >= floor]  # ties at the edge are decided on their members
    return _describe(members.filter(cluster_id__in=ranked), followers=followers, support=support, top=top)


def _describe(
    members: QuerySet[HotMember], *, followers: dict[int, list[str]], support: dict[int, int], top: int
) -> list[HotGroup]:
    rows = members.values_list(
        "cluster_id",
        "demand_id",
        "demand__title",
        "demand__description",
        "demand__channel",
        "demand__reporter_phone",
        "demand__household_id",
        "demand__area_path",
        "demand__created_at",
    ).order_by("demand_id")
    records: list[HotRecord] = []
    groups: dict[int, list[int]] = defaultdict(list)
    for cluster_id, pk, title, body, channel, phone, household_id, area, created_at in rows:
        groups[cluster_id].append(len(records))
        records.append(
            HotRecord(
                id=str(pk),
                title=title,
                body=body,
                user=phone or (f"h{household_id}" if household_id else f"d{pk}"),
                area=area,
                support=support.get(pk, 0),
                created_at=created_at,
                system=is_system_filed(channel=channel, reporter_phone=phone, household_id=household_id),
                followers=tuple(followers.get(pk, ())),
            )
        )
    out = describe_groups(records, list(groups.values()), top=top)
    for g in out:
        g.extra["demand_ids"] = [int(i) for i in g.member_ids]
    return out
