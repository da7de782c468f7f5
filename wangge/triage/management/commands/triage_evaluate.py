"""Score a stored model on a labelled CSV; the last line printed is one JSON object."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from wangge.core.errors import WanggeError
from wangge.triage import selectors
from wangge.triage.csvdata import read_rows
from wangge.triage.evaluation import evaluate
from wangge.triage.management.commands._common import fail
from wangge.triage.ml import join_text
from wangge.triage.runtime import model_threshold


class Command(BaseCommand):
    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # --version picks a model version here, not Django's version.
        kwargs.setdefault("conflict_handler", "resolve")
        return super().create_parser(prog_name, subcommand, **kwargs)

    help = "评估模型 / Evaluate a model: accuracy, macro-F1, per-label precision and recall, ms per message."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--csv", required=True)
        parser.add_argument("--text", default="title,body")
        parser.add_argument("--label", default="label")
        parser.add_argument("--model", required=True)
        parser.add_argument("--version", type=int)

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            row = selectors.model_get(name=opts["model"], version=opts["version"])
            clf = selectors.model_load(model=row)
            rows = read_rows(opts["csv"], text=opts["text"], label=opts["label"])
        except WanggeError as exc:
            raise fail(exc)
        texts = [join_text(r.title, r.body) for r in rows]
        truth = [r.label for r in rows]
        # The threshold the model was saved with (chosen on its own held-out rows): how safe is
        # auto-applying on these rows, and how many would be applied.
        threshold = model_threshold(row.metrics)
        result = evaluate(clf, texts, truth, threshold=threshold)
        unknown = sorted(set(truth) - set(clf.labels))
        out = {
            "accuracy": result["accuracy"],
            "macro_f1": result["macro_f1"],
            "per_label": result["per_label"],
            "ms_per_message": result["ms_per_message"],
            "rows": result["rows"],
            "model": f"{row.name} v{row.version}",
            "target": row.target,
            "auto_apply_threshold": threshold,
            "auto_apply_precision": result["auto_apply"]["precision"],
            "auto_apply_coverage": result["auto_apply"]["coverage"],
        }
        w = self.stdout.write
        w(f"模型 model: {out['model']}  行数 rows: {out['rows']}")
        w(f"准确率 accuracy: {out['accuracy']:.4f}")
        w(f"宏平均 F1 macro-F1: {out['macro_f1']:.4f}")
        w(f"{'类别 label':<16}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}")
        for label, m in out["per_label"].items():
            w(f"{label:<16}{m['precision']:>10.4f}{m['recall']:>10.4f}{m['f1']:>10.4f}{m['support']:>9}")
        w(f"每条耗时 ms per message: {out['ms_per_message']:.3f}")
        if threshold is None:
            w("自动采用 auto-apply: 无阈值，仅作建议 none (the model only suggests)")
        else:
            precision = out["auto_apply_precision"]
            w(
                f"自动采用 auto-apply ≥ {threshold:.4f}: precision "
                + (f"{precision:.4f}" if precision is not None else "—")
                + f", coverage {out['auto_apply_coverage']:.4f}"
            )
        if unknown:
            w(f"模型不认识的类别 labels the model does not know: {'、'.join(unknown)}")
        w(json.dumps(out, ensure_ascii=False))
