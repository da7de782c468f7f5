"""The classifier on its own: learns the invented messages, explains itself, loads only trusted files."""

from __future__ import annotations

import collections
import os

import pytest

from wangge.triage.ml import FORMAT, TriageClassifier, UntrustedModel, join_text, mask_personal, normalise
from wangge.triage.testing import make_messages


def test_predicts_the_invented_labels_and_names_its_words(classifier: TriageClassifier) -> None:
    pred = classifier.predict_one(join_text("荷花小区路灯坏了，晚上很黑", "路灯一直不亮"))
    assert pred.label == "道路照明"
    assert 0 < pred.confidence <= 1
    assert len(pred.top) == 3 and pred.top[0][0] == "道路照明"
    assert "路灯" in "".join(pred.explanation)
    assert classifier.predict(["楼上深夜装修噪音扰民", "孩子入学报名需要什么材料"]) == ["邻里纠纷", "教育"]


def test_probabilities_sum_to_one(classifier: TriageClassifier) -> None:
    proba = classifier.predict_proba(["垃圾没人清运", "学校门口很危险"])
    assert proba.shape == (2, 4)
    assert abs(proba.sum(axis=1) - 1).max() < 1e-6


def test_round_trip_through_skops_keeps_predictions(classifier: TriageClassifier) -> None:
    texts = [join_text(r["title"], r["body"]) for r in make_messages(per_label=3)]
    again = TriageClassifier.loads(classifier.dumps())
    assert again.labels == classifier.labels
    assert again.predict(texts) == classifier.predict(texts)


class Gadget:
    """A type no triage model contains."""

    def __init__(self) -> None:
        self.payload = "x"


@pytest.mark.parametrize(
    "payload",
    [Gadget(), os.system, collections.OrderedDict(a=1)],
    ids=["custom-class", "function", "unexpected-builtin-type"],
)
def test_loading_refuses_untrusted_types(payload: object) -> None:
    from skops.io import dumps  # here, not at collection: importing skops costs seconds per test worker

    data = dumps({"format": FORMAT, "labels": ["a"], "params": {}, "evil": payload})
    with pytest.raises(UntrustedModel) as info:
        TriageClassifier.loads(data)
    assert info.value.types


def test_loading_refuses_a_file_that_is_not_a_triage_model() -> None:
    from skops.io import dumps

    with pytest.raises(UntrustedModel):
        TriageClassifier.loads(dumps({"format": "something-else"}))


def test_personal_numbers_are_masked_and_never_learned() -> None:
    text = "我的电话13812345678，身份证430181199001011234，请回电"
    masked = mask_personal(text)
    assert "13812345678" not in masked and "138****5678" in masked
    assert "430181199001011234" not in masked and "4301" in masked
    norm = normalise(text)
    assert "1381234" not in norm and "19900101" not in norm


def test_place_codes_of_the_public_sample_are_dropped() -> None:
    assert "a7" not in normalise("A7县黄兴大道拖欠工程款")
