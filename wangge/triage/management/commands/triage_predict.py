"""Classify one text with a stored model: label, confidence, top 3 and the words behind it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wangge.core.errors import WanggeError
from wangge.triage import selectors
from wangge.triage.management.commands._common import fail
from wangge.triage.ml import mask_personal
from wangge.triage.models import LabelMapping, TriageModel


class Command(BaseCommand):
    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # --version picks a model version here, not Django's version.
        kwargs.setdefault("conflict_handler", "resolve")
        return super().create_parser(prog_name, subcommand, **kwargs)

    help = "用模型判断一段文字的类别 / Predict the category of a text."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("text", nargs="+")
        parser.add_argument("--model", help="model name (default: the active model)")
        parser.add_argument("--version", type=int)

    def handle(self, *args: Any, **opts: Any) -> None:
        row: TriageModel | None
        try:
            if opts["model"]:
                row = selectors.model_get(name=opts["model"], version=opts["version"])
            else:
                row = selectors.active_model()
                if row is None:
                    raise CommandError("没有启用的模型，请用 --model 指定 / no active model: give --model")
            clf = selectors.model_load(model=row)
        except WanggeError as exc:
            raise fail(exc)
        text = " ".join(opts["text"])
        pred = clf.predict_one(text)
        mapping = LabelMapping.objects.filter(label=pred.label).first()
        w = self.stdout.write
        w(f"模型 model: {row.name} v{row.version}")
        w(f"文本 text: {mask_personal(text)[:200]}")
        w(f"类别 label: {pred.label}")
        w(f"置信度 confidence: {pred.confidence:.4f}")
        if mapping:
            w(f"对应类别编码 category code: {mapping.category_code}")
        w("前三 top-3: " + "；".join(f"{label} {p:.4f}" for label, p in pred.top))
        w(
            "依据 explanation: "
            + ("、".join(pred.explanation) if pred.explanation else "（无明显关键词 no strong words）")
        )
