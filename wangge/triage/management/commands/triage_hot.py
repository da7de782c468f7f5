"""Print the hot issues in a CSV export: groups about the same problem, hottest first."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wangge.core.errors import WanggeError
from wangge.triage.csvdata import parse_datetime, read_rows, to_int
from wangge.triage.management.commands._common import fail
from wangge.triage.ml import mask_personal
from wangge.triage.similarity import HotRecord, hot_groups


class Command(BaseCommand):
    help = "热点问题 / Hot issues in a CSV: grouped by text, ranked by size, spread and support."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--csv", required=True)
        parser.add_argument("--text", default="title,body")
        parser.add_argument("--since", required=True, help="YYYY-MM-DD")
        parser.add_argument("--until", help="YYYY-MM-DD (inclusive)")
        parser.add_argument("--top", type=int, default=10)
        parser.add_argument("--threshold", type=float, default=0.3, help="cosine similarity to link two messages")
        parser.add_argument("--json", action="store_true", help="also print the groups as one JSON line")

    def handle(self, *args: Any, **opts: Any) -> None:
        since = parse_datetime(opts["since"])
        if since is None:
            raise CommandError(f"无法识别日期 {opts['since']} / unreadable date")
        until = parse_datetime(opts["until"]) if opts["until"] else None
        if opts["until"] and until is None:
            raise CommandError(f"无法识别日期 {opts['until']} / unreadable date")
        try:
            rows = read_rows(opts["csv"], text=opts["text"])
        except WanggeError as exc:
            raise fail(exc)
        records = []
        for r in rows:
            at = parse_datetime(r.raw.get("created_at", ""))
            if at is not None and (at < since or (until is not None and at.date() > until.date())):
                continue
            if at is None and r.raw.get("created_at"):
                continue
            records.append(
                HotRecord(
                    id=r.id,
                    title=r.title,
                    body=r.body,
                    user=r.raw.get("user", ""),
                    area=r.raw.get("area", ""),
                    support=to_int(r.raw.get("likes", "0")) - to_int(r.raw.get("dislikes", "0")),
                    created_at=at,
                )
            )
        groups = hot_groups(records, top=opts["top"], threshold=opts["threshold"])
        w = self.stdout.write
        w(f"{len(records)} 条留言 messages since {opts['since']}; {len(groups)} 个热点 hot groups")
        for rank, g in enumerate(groups, start=1):
            span = ""
            if g.first_at and g.last_at:
                span = f"  {g.first_at:%Y-%m-%d} ~ {g.last_at:%Y-%m-%d}"
            w(
                f"{rank:>2}. 【{g.name or '—'}】 热度 heat {g.heat:.1f}: {g.size} 条 messages, "
                f"{g.users} 人 users, {g.areas} 地 areas, 支持 support {g.support}{span}"
            )
            w(f"    例 ids: {', '.join(g.ids)}")
            for title in g.titles[:3]:
                w(f"    - {mask_personal(title)[:60]}")
        if opts["json"]:
            w(json.dumps([g.as_dict() for g in groups], ensure_ascii=False))
