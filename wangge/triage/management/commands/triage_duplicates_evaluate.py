"""Measure the duplicate finder's text matching on a CSV: each row's query text looks for its own
target text among every row's; the last line printed is one JSON object."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext_lazy as _

from wangge.core.errors import ValidationFailed, WanggeError
from wangge.triage.csvdata import read_rows
from wangge.triage.evaluation import retrieval_recall
from wangge.triage.management.commands._common import fail


class Command(BaseCommand):
    help = (
        "评估查重 / Evaluate duplicate finding: every row's target text is indexed, every row's query text "
        "ranks them; recall@1, recall@5 and ms per query."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--csv", required=True)
        parser.add_argument("--query", required=True, help="column of the texts that search (e.g. title)")
        parser.add_argument("--target", required=True, help="column of the texts to find (e.g. body)")
        parser.add_argument(
            "--halves",
            type=int,
            default=None,
            metavar="SEED",
            help="also split the rows in two random halves (this seed) and give each half's recall",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        query, target = opts["query"].strip(), opts["target"].strip()
        try:
            if query == target:
                raise ValidationFailed(_("the query and target columns must differ"), field="target")
            rows = read_rows(opts["csv"], text=f"{query},{target}")
        except WanggeError as exc:
            raise fail(exc)
        # Only rows with both texts can be scored: a row without a target cannot be found.
        pairs = [(r.title, r.body) for r in rows if r.title and r.body]
        if not pairs:
            raise fail(ValidationFailed(_("the file has no usable rows"), field="csv"))
        result = retrieval_recall([q for q, _t in pairs], [t for _q, t in pairs], k=5, halves_seed=opts["halves"])
        out = {**result, "skipped": len(rows) - len(pairs), "query": query, "target": target}
        w = self.stdout.write
        w(f"行数 rows: {out['rows']}  跳过 skipped (no {query} or no {target}): {out['skipped']}")
        w(f"召回率 recall@1: {out['recall_at_1']:.4f}")
        w(f"召回率 recall@5: {out['recall_at_5']:.4f}")
        for name, half in out.get("halves", {}).items():
            w(f"  {name} ({half['rows']}): recall@1 {half['recall_at_1']:.4f}, recall@5 {half['recall_at_5']:.4f}")
        w(f"建索引 index: {out['index_seconds']} s  每次查询 ms per query: {out['ms_per_query']:.3f}")
        w(json.dumps(out, ensure_ascii=False))
