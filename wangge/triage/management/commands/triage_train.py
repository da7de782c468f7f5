"""Train a category (or department) classifier from a labelled CSV or from the county's own history.

`--from-db` learns categories from staff confirmations, corrections and handled demands; with
`--label department` it learns departments from where demands were actually dispatched. From a CSV
the model's target is a department when every label is a department code (selectors.infer_target).
Each saved model carries its held-out figures and auto-apply threshold (training.train_model)."""

from __future__ import annotations

import getpass
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wangge.core.errors import WanggeError
from wangge.triage import selectors, services
from wangge.triage.csvdata import read_rows
from wangge.triage.evaluation import cross_validate
from wangge.triage.management.commands._common import fail, find_actor
from wangge.triage.ml import Params, join_text
from wangge.triage.training import train_model


class Command(BaseCommand):
    help = "训练分类模型并存为新版本（不自动启用）/ Train a triage model and save it as a new version (not active)."

    def add_arguments(self, parser: CommandParser) -> None:
        src = parser.add_mutually_exclusive_group(required=True)
        src.add_argument("--csv", help="labelled CSV file")
        src.add_argument("--from-db", action="store_true", help="confirmed demands + training examples")
        parser.add_argument("--text", default="title,body", help="text columns: title first, then body columns")
        parser.add_argument(
            "--label", default="label", help="label column (with --from-db: 'department' learns departments)"
        )
        parser.add_argument("--model", required=True, help="model name (a new version is added)")
        parser.add_argument("--cv", type=int, default=0, help="also cross-validate with K folds and store the figures")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--activate", action="store_true", help="activate now (a person running it by hand)")
        parser.add_argument("--actor", help="username recorded as the one who trained / activated")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            if opts["csv"]:
                rows = read_rows(opts["csv"], text=opts["text"], label=opts["label"])
                texts = [join_text(r.title, r.body) for r in rows]
                labels = [r.label for r in rows]
                source = f"csv:{opts['csv']}"
                target = selectors.infer_target(labels)
            else:
                target = "department" if opts["label"] == "department" else "category"
                db_rows = selectors.rows_for(target)
                texts = [join_text(t, d) for t, d, _ in db_rows]
                labels = [c for _, _, c in db_rows]
                source = "db"
            counts = Counter(labels)
            if len(counts) < 2:
                raise CommandError("至少需要两个类别的样本 / at least two labels are needed")
            actor = find_actor(opts.get("actor"))
            params = Params(seed=opts["seed"])
            metrics: dict[str, Any] = {"label_counts": dict(counts)}
            if opts["cv"]:
                k = min(opts["cv"], min(counts.values()))
                if k < 2:
                    raise CommandError("样本太少，无法交叉验证 / too few rows per label to cross-validate")
                cv = cross_validate(texts, labels, params=params, folds=k, seed=opts["seed"])
                metrics["cv"] = cv
                self.stdout.write(
                    f"{k} 折交叉验证 / {k}-fold CV: macro-F1 {cv['macro_f1']:.4f} "
                    f"(每折均值 mean {cv['macro_f1_mean']:.4f} ± {cv['macro_f1_std']:.4f}), "
                    f"accuracy {cv['accuracy']:.4f}"
                )
            model = train_model(
                texts,
                labels,
                name=opts["model"],
                target=target,
                source=source,
                params=params,
                actor=actor,
                metrics=metrics,
            )
            metrics = model.metrics
            auto = metrics.get("auto_apply") or {}
            held = metrics.get("held_out") or {}
            self.stdout.write(
                f"留出集 held-out ({held.get('rows', 0)} rows): macro-F1 {held.get('macro_f1', 0):.4f}; "
                + (
                    f"自动采用阈值 auto-apply above {auto['threshold']:.4f} "
                    f"(precision {auto['precision']:.4f}, coverage {auto['coverage']:.4f})"
                    if auto.get("threshold") is not None
                    else "无安全阈值，仅作建议 no threshold reaches the precision: suggestions only"
                )
            )
            self.stdout.write(
                f"已保存模型 saved {model.name} v{model.version} ({target}): {len(texts)} rows, {len(counts)} labels, "
                f"{metrics['fit_seconds']} s, {model.size_bytes // 1024} KiB"
            )
            if opts["activate"]:
                via = f"triage_train --activate ({getpass.getuser()})"
                services.triage_model_activate(model=model, actor=actor, via=via)
                self.stdout.write(f"已启用 activated {model.name} v{model.version}")
            else:
                self.stdout.write("未启用：请由管理员在后台启用 / not active: an administrator activates it")
        except WanggeError as exc:
            raise fail(exc)
