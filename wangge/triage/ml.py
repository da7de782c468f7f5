"""The text classifier behind category suggestion: pure Python, no Django, CPU only, no download.

Three TF-IDF blocks over a message: rjieba words (uni- and bigrams) of title + body, character
1–3-grams of title + body (they survive segmentation mistakes), and character 1–3-grams of the
title alone (half of real messages are a title only, and the title states the matter). One linear
SVM with balanced class weights reads them; its margins become probabilities through sigmoids
fitted on out-of-fold margins. Everything is saved with skops and loaded only when every type in
the file is on an explicit list, so a model file can never run code it was not expected to.
"""

from __future__ import annotations

import copy
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

# scikit-learn, scipy and rjieba are imported inside the methods that use them: the URLconf reaches
# this module through triage.services, and importing them there cost seconds on every
# `manage.py` command and test worker start, while only training and prediction need them.

FORMAT = "wangge-triage/1"

# Digits that look like a phone or an ID card number are personal data: never learned, never shown.
_PHONE_RE = re.compile(r"(?<!\d)(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
_ID_RE = re.compile(r"(?<![\dA-Za-z])(\d{17}[\dXx]|\d{15})(?![\dA-Za-z])")
_SPACE_RE = re.compile(r"\s+")
_DIGITS_RE = re.compile(r"\d+")
# The public sample anonymises places as "A7县", "D3区", "M13县": the code says nothing about the
# topic and would only teach the model where a label happened to be common.
_PLACE_CODE_RE = re.compile(r"(?<![A-Za-z])[A-Z]\d{0,3}(?=[市县区镇乡村])")
_PUNCT = set("，。！？、；：“”‘’（）《》【】…—,.!?;:'\"()<>[]{}-_/\\|~·@#$%^&*+=")

_STOP_TEXT = """
的 了 是 在 我 我们 你 您 他 她 它 们 和 与 及 或 也 都 就 还 又 很 太 更 最 被 把
让 给 对 向 从 到 于 为 以 之 而 但 却 并 且 如 若 如果 因为 所以 因此 虽然 但是 可是
这 那 这个 那个 这些 那些 这里 那里 这样 那样 什么 怎么 怎么办 为什么 如何 哪里 哪 谁 吗 呢
吧 啊 呀 哦 嘛 啦 一 一个 一些 一下 一直 有 没有 没 不 无 个 能 能否 可以 可否 会 要 想
需要 应该 希望 请 请问 请求 恳请 敬请 麻烦 领导 尊敬 您好 你好 谢谢 感谢 关于 问题 情况 反映
咨询 投诉 建议 相关 有关 部门 政府 进行 已经 现在 目前 时候 今年 去年 今天 日 月 年 号 上
下 中 内 外 后 前 里 多 少 大 小 等 等等 其 该 此 自己 时 及时 尽快 马上 非常 严重 一样
知道 来 去 说 做
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())


def mask_personal(text: str) -> str:
    """Hide phone and ID card numbers in text that will be printed or stored."""
    text = _ID_RE.sub(lambda m: m.group(0)[:6] + "*" * (len(m.group(0)) - 10) + m.group(0)[-4:], text)
    return _PHONE_RE.sub(lambda m: m.group(0)[:3] + "****" + m.group(0)[-4:], text)


def normalise(text: str) -> str:
    """One spelling for the model: full-width to half-width, lower case, no personal numbers."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _PLACE_CODE_RE.sub("", text)
    text = _PHONE_RE.sub(" ", text)
    text = _ID_RE.sub(" ", text)
    text = _DIGITS_RE.sub("0", text)
    return _SPACE_RE.sub(" ", text).strip().lower()


def words(text: str) -> list[str]:
    """rjieba words of normalised text without punctuation or spaces (stop words kept for the model)."""
    import rjieba

    return [w for w in rjieba.cut(text) if w.strip() and w not in _PUNCT]


def keywords(text: str) -> list[str]:
    """Words worth showing a person: segmented, no stop words, no single characters, no numbers."""
    return [w for w in words(normalise(text)) if len(w) > 1 and w not in STOP_WORDS and not w.isdigit()]


def join_text(title: str, body: str) -> str:
    """Title and body as one document: the title on the first line (the model reads it twice)."""
    title = _SPACE_RE.sub(" ", title or "").strip()
    body = (body or "").strip()
    return f"{title}\n{body}" if body else title


def split_text(text: str) -> tuple[str, str]:
    title, _, body = (text or "").partition("\n")
    return title, body


@dataclass
class Params:
    """The classifier's settings. Chosen once by 5-fold CV on the public sample's training folds
    (see bench/bench_triage.py for the figures and docs in the README); not tuned per file."""

    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (1, 3)
    min_df: int = 1
    max_chars: int = 1000
    title_block: bool = True
    svm_c: float = 1.0
    class_weight: str | None = "balanced"
    calibration_folds: int = 3
    seed: int = 0


@dataclass
class Prediction:
    label: str
    confidence: float
    top: list[tuple[str, float]]
    explanation: list[str]


def _is_calibrated(svm: object) -> TypeGuard[CalibratedClassifierCV]:
    from sklearn.calibration import CalibratedClassifierCV

    return isinstance(svm, CalibratedClassifierCV)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class TriageClassifier:
    """Linear SVM over three TF-IDF blocks (words of the whole text, its characters, the title's
    characters), with sigmoid-calibrated probabilities."""

    def __init__(self, params: Params | None = None) -> None:
        self.params = params or Params()
        self.word_vec: TfidfVectorizer | None = None
        self.char_vec: TfidfVectorizer | None = None
        self.title_vec: TfidfVectorizer | None = None
        self.svm: CalibratedClassifierCV | LinearSVC | None = None
        self.labels: list[str] = []

    # -- text to features ------------------------------------------------------------------
    def _char_vectorizer(self) -> TfidfVectorizer:
        from sklearn.feature_extraction.text import TfidfVectorizer

        p = self.params
        return TfidfVectorizer(
            analyzer="char",
            ngram_range=p.char_ngrams,
            min_df=p.min_df,
            sublinear_tf=True,
            lowercase=False,
            dtype=np.float32,
        )

    def _features(self, texts: Sequence[str], *, fit: bool = False) -> sp.csr_matrix:
        import scipy.sparse as sp

        cap = self.params.max_chars
        parts = [split_text(t) for t in texts]
        full = [normalise(f"{title} {body}")[:cap] for title, body in parts]
        # Words are joined with spaces and split back by the vectorizer's token pattern.
        segmented = [" ".join(words(t)) for t in full]
        blocks = [(self.word_vec, segmented), (self.char_vec, full)]
        if self.title_vec is not None:
            blocks.append((self.title_vec, [normalise(title) for title, _ in parts]))
        mats = []
        for vec, docs in blocks:
            assert vec is not None
            mats.append(vec.fit_transform(docs) if fit else vec.transform(docs))
        return sp.hstack(mats, format="csr")

    # -- training --------------------------------------------------------------------------
    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> TriageClassifier:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        p = self.params
        self.word_vec = TfidfVectorizer(
            token_pattern=r"[^ ]+",
            ngram_range=p.word_ngrams,
            min_df=p.min_df,
            sublinear_tf=True,
            lowercase=False,
            dtype=np.float32,
        )
        self.char_vec = self._char_vectorizer()
        self.title_vec = self._char_vectorizer() if p.title_block else None
        x = self._features(texts, fit=True)
        y = np.asarray(labels)
        self.labels = sorted(set(labels))
        if len(self.labels) < 2:
            raise ValueError("at least two labels are needed")
        svm = LinearSVC(C=p.svm_c, class_weight=p.class_weight, random_state=p.seed)
        smallest = int(min(np.unique(y, return_counts=True)[1]))
        folds = min(p.calibration_folds, smallest)
        if folds >= 2:
            # One SVM on all rows (ensemble=False keeps prediction to one dot product), its margins
            # mapped to probabilities by sigmoids fitted on out-of-fold margins.
            self.svm = CalibratedClassifierCV(svm, cv=folds, method="sigmoid", ensemble=False)
        else:
            self.svm = svm  # too few rows per label to calibrate: softmax of the margins
        self.svm.fit(x, y)
        return self

    def _linear(self) -> LinearSVC:
        assert self.svm is not None
        if _is_calibrated(self.svm):
            return self.svm.calibrated_classifiers_[0].estimator
        return self.svm

    # -- prediction ------------------------------------------------------------------------
    def _proba_x(self, x: sp.csr_matrix) -> np.ndarray:
        assert self.svm is not None
        if _is_calibrated(self.svm):
            return self.svm.predict_proba(x)
        margins = self.svm.decision_function(x)
        if margins.ndim == 1:
            margins = np.column_stack([-margins, margins])
        return _softmax(margins)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Rows follow `self.labels` (sorted)."""
        return self._proba_x(self._features(texts))

    def predict(self, texts: Sequence[str]) -> list[str]:
        proba = self.predict_proba(texts)
        return [self.labels[i] for i in proba.argmax(axis=1)]

    def predict_one(self, text: str, *, top: int = 3, explain: int = 5) -> Prediction:
        """One message, as at intake: the same figures as predict_proba without scikit-learn's
        per-call input checks, which cost more than the arithmetic for a single row."""
        cols, vals = self._row(text)
        proba = self._proba_row(cols, vals)
        order = np.argsort(-proba)
        best = int(order[0])
        return Prediction(
            label=self.labels[best],
            confidence=float(proba[best]),
            top=[(self.labels[int(i)], float(proba[int(i)])) for i in order[:top]],
            explanation=self._explain(cols, vals, best, explain),
        )

    def _fast(self) -> dict[str, Any]:
        """Analyzers, offsets and dense weights prepared once per loaded model (never saved)."""
        cache = self.__dict__.get("_fast_cache")
        if cache is None:
            blocks = [v for v in (self.word_vec, self.char_vec, self.title_vec) if v is not None]
            offsets, start = [], 0
            for v in blocks:
                offsets.append(start)
                start += len(v.vocabulary_)
            linear = self._linear()
            calibrators = []
            if _is_calibrated(self.svm):
                cal = self.svm.calibrated_classifiers_[0]
                calibrators = [(float(c.a_), float(c.b_)) for c in cal.calibrators]
            cache = {
                "blocks": [
                    (v, v.build_analyzer(), v.idf_.astype(np.float64), off)
                    for v, off in zip(blocks, offsets, strict=True)
                ],
                "coef": np.asarray(linear.coef_, dtype=np.float64),
                "intercept": np.asarray(linear.intercept_, dtype=np.float64),
                "calibrators": calibrators,
                "names": {},
            }
            self.__dict__["_fast_cache"] = cache
        return cache

    def _row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Column indices and TF-IDF values of one message (same numbers as _features)."""
        fast = self._fast()
        title, body = split_text(text)
        full = normalise(f"{title} {body}")[: self.params.max_chars]
        docs = [" ".join(words(full)), full, normalise(title)]
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        for (vec, analyzer, idf, offset), doc in zip(fast["blocks"], docs, strict=False):
            counts: dict[int, int] = {}
            vocab = vec.vocabulary_
            for token in analyzer(doc):
                j = vocab.get(token)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if not counts:
                continue
            idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            if vec.sublinear_tf:
                tf = np.log(tf) + 1
            v = (tf * idf[idx]).astype(np.float32).astype(np.float64)
            norm = np.sqrt((v * v).sum())
            if norm > 0:
                v = v / norm
            cols.append(idx + offset)
            vals.append(v)
        if not cols:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(cols), np.concatenate(vals)

    def _proba_row(self, cols: np.ndarray, vals: np.ndarray) -> np.ndarray:
        fast = self._fast()
        margins = fast["coef"][:, cols] @ vals + fast["intercept"]
        n = len(self.labels)
        if not fast["calibrators"]:
            m = np.array([-margins[0], margins[0]]) if n == 2 else margins
            return _softmax(m[np.newaxis, :])[0]
        p = np.array([1.0 / (1.0 + np.exp(a * f + b)) for (a, b), f in zip(fast["calibrators"], margins, strict=True)])
        if n == 2:
            return np.array([1.0 - p[0], p[0]])
        total = p.sum()
        return p / total if total > 0 else np.full(n, 1.0 / n)

    def _explain(self, cols: np.ndarray, vals: np.ndarray, class_index: int, n: int) -> list[str]:
        """The words (not character fragments) that pushed the SVM towards this label."""
        fast = self._fast()
        assert self.word_vec is not None
        n_word = len(self.word_vec.vocabulary_)
        mask = cols < n_word
        wcols, wvals = cols[mask], vals[mask]
        if wcols.size == 0:
            return []
        coef = fast["coef"]
        weights = coef[class_index] if coef.shape[0] > 1 else (coef[0] if class_index == 1 else -coef[0])
        contrib = wvals * weights[wcols]
        names: dict[int, str] = fast["names"]
        if not names:
            names.update({j: w for w, j in self.word_vec.vocabulary_.items()})
        out: list[str] = []
        for i in np.argsort(-contrib):
            if contrib[i] <= 0 or len(out) >= n:
                break
            word = names[int(wcols[i])]
            # Single words only: a bigram glued back together ("社区路") reads as nonsense.
            if " " in word or word in STOP_WORDS or len(word) < 2 or word.isdigit() or word in out:
                continue
            out.append(word)
        return out

    def params_dict(self) -> dict[str, Any]:
        p = self.params
        return {
            "word_ngrams": list(p.word_ngrams),
            "char_ngrams": list(p.char_ngrams),
            "min_df": p.min_df,
            "max_chars": p.max_chars,
            "title_block": p.title_block,
            "svm_c": p.svm_c,
            "class_weight": p.class_weight,
            "calibration_folds": p.calibration_folds,
            "seed": p.seed,
        }

    # -- persistence -----------------------------------------------------------------------
    def dumps(self) -> bytes:
        """skops bytes of the fitted parts (never a pickle)."""
        from skops.io import dumps

        state: dict[str, Any] = {
            "format": FORMAT,
            "labels": list(self.labels),
            "params": self.params_dict(),
            "svm": self.svm,
        }
        for key in ("word_vec", "char_vec", "title_vec"):
            vec = getattr(self, key)
            if vec is None:
                state[key] = None
                continue
            # A vocabulary of hundreds of thousands of n-grams written as a dict becomes one JSON
            # node per entry (slow and huge); as a numpy array of strings it is one compact file.
            bare = copy.copy(vec)
            del bare.vocabulary_
            state[key] = bare
            state[key + "_terms"] = vec.get_feature_names_out().astype(str)
        return dumps(state, compression=zipfile.ZIP_DEFLATED)

    @classmethod
    def loads(cls, data: bytes) -> TriageClassifier:
        """Load skops bytes, refusing any type outside TRUSTED_TYPES (UntrustedModel)."""
        from skops.io import get_untrusted_types, loads

        # Every type named anywhere in the file must be on our list, not only those skops would
        # question: a triage model holds vectorizers, linear models, numpy and scipy arrays.
        unknown = sorted((types_in(data) | set(get_untrusted_types(data=data))) - ALLOWED_TYPES)
        if unknown:
            raise UntrustedModel(unknown)
        state = loads(data, trusted=sorted(TRUSTED_TYPES))
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise UntrustedModel(["<not a wangge triage model>"])
        raw = state["params"]
        params = Params(
            word_ngrams=(int(raw["word_ngrams"][0]), int(raw["word_ngrams"][1])),
            char_ngrams=(int(raw["char_ngrams"][0]), int(raw["char_ngrams"][1])),
            min_df=int(raw["min_df"]),
            max_chars=int(raw["max_chars"]),
            title_block=bool(raw["title_block"]),
            svm_c=float(raw["svm_c"]),
            class_weight=raw["class_weight"],
            calibration_folds=int(raw["calibration_folds"]),
            seed=int(raw["seed"]),
        )
        model = cls(params)
        model.labels = list(state["labels"])
        for key in ("word_vec", "char_vec", "title_vec"):
            vec = state[key]
            if vec is not None:
                vec.vocabulary_ = {str(term): i for i, term in enumerate(state[key + "_terms"])}
            setattr(model, key, vec)
        model.svm = state["svm"]
        return model


class UntrustedModel(Exception):
    """A model file holds types this code did not expect: it is not loaded."""

    def __init__(self, types: list[str]) -> None:
        self.types = types
        super().__init__("untrusted types in model file: " + ", ".join(types))


# Exactly the types a TriageClassifier file contains beyond skops' defaults (numpy, builtins, and
# scikit-learn estimators skops already knows). Anything else makes loading fail.
TRUSTED_TYPES: tuple[str, ...] = (
    "builtins.slice",
    "numpy.dtype",
    "numpy.float32",
    "numpy.float64",
    "numpy.int64",
    "numpy.ndarray",
    "numpy.str_",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.svm._classes.LinearSVC",
)


# Plain containers and scalars skops writes for any model.
BASIC_TYPES: frozenset[str] = frozenset(
    f"builtins.{name}" for name in ("dict", "list", "tuple", "str", "int", "float", "bool", "NoneType", "type")
)
ALLOWED_TYPES: frozenset[str] = frozenset(TRUSTED_TYPES) | BASIC_TYPES


def types_in(data: bytes) -> set[str]:
    """Every module.class named in a skops file's schema (read as JSON, nothing is imported)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            schema = json.loads(zf.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise UntrustedModel([f"<unreadable model file: {exc}>"]) from None
    found: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__class__" in node and "__module__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found
