"""The worker's auto-link pass: new demands that match an active topic are linked and their reporters told once.

Each topic keeps `scanned_through`, the highest demand id it has looked at; a pass claims the next
batch by moving it with a conditional UPDATE, so two workers never look at the same demands for one
topic. The link's unique (topic, demand) and the outbox's dedupe key keep anyone from being told twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from wangge.core import clock
from wangge.core.links import public_url
from wangge.demands.models import Demand
from wangge.governance import selectors
from wangge.governance.models import GovernanceTopic, LinkHow, TopicDemand, TopicState
from wangge.governance.services._common import told

BATCH = 500


@dataclass
class LinkReport:
    topics: int = 0
    looked_at: int = 0
    linked: int = 0
    told: int = 0

    def __str__(self) -> str:
        return f"topics {self.topics}, looked at {self.looked_at}, linked {self.linked}, told {self.told}"


def topic_tell_reporter(*, topic: GovernanceTopic, link: TopicDemand) -> bool:
    """The reporter of a linked demand is told once that it is now part of the topic, with the public link."""
    from wangge.demands.services import demand_tell_reporter

    url = public_url(reverse("governance:public_topic", args=[topic.pk]))
    body = told(
        _('The problem you reported is now one of this month\'s key governance topics, "%(title)s"; progress: %(url)s'),
        {"title": topic.title, "url": url},
    )
    sent = demand_tell_reporter(
        demand=link.demand, body=body, kind="topic", dedupe_key=f"governance-topic:{topic.pk}:{link.demand_id}", url=url
    )
    TopicDemand.objects.filter(pk=link.pk, told_at__isnull=True).update(told_at=clock.now())
    return sent


@transaction.atomic
def _link_batch(topic: GovernanceTopic, report: LinkReport) -> bool:
    """One batch of newer demands for one topic; False when there was nothing newer."""
    start = topic.scanned_through
    batch = list(
        Demand.objects.filter(pk__gt=start, area_path__startswith=topic.match_path)
        .exclude(state="merged")
        .select_related("category")
        .order_by("pk")[:BATCH]
    )
    if not batch:
        return False
    end = batch[-1].pk
    claimed = GovernanceTopic.objects.filter(pk=topic.pk, scanned_through=start).update(scanned_through=end)
    topic.scanned_through = end
    if not claimed:
        return False  # another worker took this batch
    samples = selectors.topic_samples(topic)
    now = clock.now()
    for demand in batch:
        report.looked_at += 1
        if not selectors.topic_matches(topic, demand, samples):
            continue
        try:
            with transaction.atomic():
                link = TopicDemand.objects.create(topic=topic, demand=demand, how=LinkHow.AUTO, linked_at=now)
        except IntegrityError:
            continue  # linked by hand meanwhile
        report.linked += 1
        if topic_tell_reporter(topic=topic, link=link):
            report.told += 1
    return len(batch) == BATCH


def topic_autolink_pass() -> LinkReport:
    """Every active topic looks at the demands filed since its last look (the worker, settings.WANGGE_WORKER_HOOKS)."""
    report = LinkReport()
    for topic in GovernanceTopic.objects.filter(state=TopicState.ACTIVE).select_related("category"):
        report.topics += 1
        while _link_batch(topic, report):
            pass
    return report
