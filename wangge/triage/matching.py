"""Text matching for the duplicate finder: does one message say what another says, in other words?

Pure code, no database. A text becomes terms after the same rewriting on both sides:

1. NFKC, lower case; every word of a synonym group (`data/synonyms.txt`) rewritten to the group's
   first word, longest first ("不见了", "丢了" → "丢失"; "窨井盖" → "井盖");
2. rjieba words without filler (the classifier's stop words and small talk such as "路过", "容易"),
   prefixed `w:`, which weigh a whole word, and the character bigrams of those words read as one
   string, which survive segmentation errors; the bigrams of the first `LEAD_CHARS` characters
   count twice (a title, or what a resident wrote first, names the problem); and the single
   characters of that string, prefixed `u:` (a paraphrase often keeps one character of a word).

A candidate is scored by how much of the query it says: BM25 (k1 = 0.9, b = 0.75), each query
term weighted by its IDF among the texts compared, divided by what the query would score against
itself, capped at 1 (1: it says at least all the query says). `TextIndex` keeps an inverted
index (a large set: the evaluation command, the bench); `pool_similarity` computes the same figure
over a small pool of term counts (the duplicate finder's few hundred open demands nearby), whose
terms are cached per text (`cached_terms`). `TextIndex.search` re-reads its best `RERANK` (20)
as such a pool (IDF among them: what near rivals all share tells nothing) and orders them by the
figure over the best figure plus `LOCAL_WEIGHT` × the pool's figure.

Measured by `manage.py triage_duplicates_evaluate` and `bench/bench_duplicates.py` (README.md here).
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from wangge.triage.ml import STOP_WORDS, words

SYNONYMS_FILE = Path(__file__).with_name("data") / "synonyms.txt"
K1 = 0.9
B = 0.75
WORD_WEIGHT = 1.0
# The second stage of `TextIndex.search`: the best RERANK re-read with IDF among themselves (+ LOCAL_CORPUS imagined).
RERANK = 20
LOCAL_CORPUS = 5
LOCAL_WEIGHT = 1.0
# A large index chooses those candidates without the query's terms held by more than this share of its texts.
COMMON_SHARE = 0.1
# The first characters (the title, or what a resident wrote first) name the problem: counted twice.
LEAD_CHARS = 60
# Only the start of a long text is read (as the classifier does): it bounds the time of a pool's first reading.
MAX_CHARS = 2000
# Words that say how, not what: the classifier's stop words and the small talk of a report.
_FILLER_TEXT = """
路过 经过 容易 附近 旁边 这边 那边 边上 天天 每次 老是 总是 特别 真的 有点 有些 一点 好像 感觉 发现
已 已经 还是 还有 然后 而且 之后 以后 以前 结果 大家 居民 市民 群众 我家 家里 本人 各位 一次 多次
"""
FILLER = STOP_WORDS | frozenset(
    _FILLER_TEXT.split()
)  # a whole word counts as much as one character bigram, on top of its bigrams
_KEEP_RE = re.compile(r"[^0-9a-z\u4e00-\u9fff]+")


def load_synonyms(path: Path = SYNONYMS_FILE) -> dict[str, str]:
    """word → the canonical word of its group (the first of its line); `#` starts a comment."""
    table: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        group = line.split("#", 1)[0].split()
        if len(group) < 2:
            continue
        for word in group[1:]:
            table.setdefault(word, group[0])
    return table


class Rewriter:
    """Rewrites every synonym to its group's canonical word in one regular-expression pass."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table = dict(table)
        alternatives = sorted(self.table, key=len, reverse=True)
        self._re = re.compile("|".join(map(re.escape, alternatives))) if alternatives else None

    def __call__(self, text: str) -> str:
        text = unicodedata.normalize("NFKC", text or "").lower()
        if self._re is None:
            return text
        return self._re.sub(lambda m: self.table[m.group(0)], text)


@functools.lru_cache(maxsize=1)
def default_rewriter() -> Rewriter:
    return Rewriter(load_synonyms())


def terms(text: str, *, rewriter: Rewriter | None = None) -> Counter[str]:
    """rjieba words of `text` after the synonym rewrite, without filler, and the character bigrams of
    what is left (read as one string): the words weigh whole words, the bigrams survive segmentation."""
    rewritten = (rewriter or default_rewriter())((text or "")[:MAX_CHARS])
    content = [w for w in (_KEEP_RE.sub("", w) for w in words(rewritten)) if w and w not in FILLER]
    squashed = "".join(content)
    out: Counter[str] = Counter(squashed[i : i + 2] for i in range(len(squashed) - 1))
    if len(squashed) == 1:
        out[squashed] += 1
    lead = squashed[:LEAD_CHARS]
    out.update(lead[i : i + 2] for i in range(len(lead) - 1))
    out.update("w:" + w for w in content if len(w) >= 2)
    out.update("u:" + c for c in squashed)
    return out


@functools.lru_cache(maxsize=20000)
def cached_terms(title: str, body: str) -> Counter[str]:
    """`terms` of a stored demand, kept per process (the same open demands are compared again and again)."""
    return terms(f"{title} {body}")


def _idf(df: np.ndarray, n: int) -> np.ndarray:
    # BM25's IDF kept positive (a term in every text still counts a little).
    return np.log(1.0 + (n - df + 0.5) / (df + 0.5))


def _saturated(tf: np.ndarray | float, norm: np.ndarray | float) -> np.ndarray:
    return np.asarray(tf * (K1 + 1) / (tf + K1 * norm))


def _query(query: Counter[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The query's terms, their weights (sublinear count; words × WORD_WEIGHT) and their counts."""
    keys = list(query)
    counts = np.array([query[k] for k in keys], dtype=float)
    weights = (1.0 + np.log(counts)) * np.array([WORD_WEIGHT if k.startswith("w:") else 1.0 for k in keys])
    return keys, weights, counts


def _pool_scores(
    weights: np.ndarray, counts: np.ndarray, tf: np.ndarray, lengths: np.ndarray, corpus: int
) -> np.ndarray:
    """The figure of a few texts (rows of `tf`: their counts of the query's terms), IDF and average
    length counted among them plus `corpus` imagined texts that share none of the terms."""
    average = max(float(lengths.mean()), 1.0)
    mass = weights * _idf((tf > 0).sum(axis=0), len(lengths) + corpus)
    top = float((mass * _saturated(counts, 1 - B + B * counts.sum() / average)).sum())
    if top <= 0:
        return np.zeros(len(lengths))
    norm = 1 - B + B * lengths / average
    return np.asarray(np.minimum((_saturated(tf, norm[:, None]) * mass[None, :]).sum(axis=1) / top, 1.0))


def pool_similarity(query: Counter[str], pool: Sequence[Counter[str]], *, corpus: int = 50) -> np.ndarray:
    """0..1 for each text of a small pool: how much of the query it says (see the module docstring).

    IDF is counted over the pool plus `corpus` imagined texts that share none of the terms, so that
    in a village's fortnight, where five reports of one broken light are most of the pool, the words
    they share still count.
    """
    if not pool or not query:
        return np.zeros(len(pool))
    keys, weights, counts = _query(query)
    tf = np.array([[doc.get(k, 0) for k in keys] for doc in pool], dtype=float)
    lengths = np.array([sum(doc.values()) for doc in pool], dtype=float)
    return _pool_scores(weights, counts, tf, lengths, corpus)


class TextIndex:
    """An inverted index over many texts: `search(text, k)` gives the k best (position, similarity)."""

    def __init__(self, texts: Sequence[str], *, rewriter: Rewriter | None = None) -> None:
        self.rewriter = rewriter or default_rewriter()
        postings: dict[str, tuple[list[int], list[int]]] = {}
        lengths = np.zeros(len(texts))
        for i, text in enumerate(texts):
            counts = terms(text, rewriter=self.rewriter)
            lengths[i] = sum(counts.values())
            for term, count in counts.items():
                ids, tfs = postings.setdefault(term, ([], []))
                ids.append(i)
                tfs.append(count)
        self.size = len(texts)
        # Ids ascend in every posting list (texts are read in order): the second stage looks them up by bisection.
        self.postings = {
            t: (np.array(ids, dtype=np.int32), np.array(tfs, dtype=np.float32)) for t, (ids, tfs) in postings.items()
        }
        self.lengths = lengths
        self.average = max(float(lengths.mean()) if len(texts) else 1.0, 1.0)
        self.norm = (1 - B + B * lengths / self.average).astype(np.float32)

    def _scores(
        self, text: str, common: float
    ) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray, np.ndarray, float]:
        """The figure of every indexed text over the query's terms held by at most `common` texts (all:
        `similarity`); the query's terms, their weights, weights × IDF and counts, and the query's own
        score (the figure's divisor, over all its terms)."""
        scores = np.zeros(self.size, dtype=np.float32)
        keys, weights, counts = _query(terms(text, rewriter=self.rewriter))
        own_norm = 1 - B + B * counts.sum() / self.average
        masses = np.zeros(len(keys))
        for j, key in enumerate(keys):
            hit = self.postings.get(key)
            df = 0 if hit is None else hit[0].size
            masses[j] = weights[j] * math.log(1.0 + (self.size - df + 0.5) / (df + 0.5))
            if hit is not None and df <= common:
                ids, tfs = hit
                scores[ids] += masses[j] * _saturated(tfs, self.norm[ids])
        top = float((masses * _saturated(counts, own_norm)).sum())
        return (np.minimum(scores / top, 1.0) if top > 0 else scores), keys, weights, masses, counts, top

    def similarity(self, text: str) -> np.ndarray:
        """0..1 for every indexed text: the same figure as `pool_similarity` (without imagined texts)."""
        return self._scores(text, self.size)[0]

    def _counts(self, keys: list[str], rows: np.ndarray) -> np.ndarray:
        """How often each of `keys` occurs in each text of `rows` (read off the posting lists)."""
        tf = np.zeros((rows.size, len(keys)))
        for j, key in enumerate(keys):
            hit = self.postings.get(key)
            if hit is None:
                continue
            ids, tfs = hit
            at = np.minimum(np.searchsorted(ids, rows), ids.size - 1)
            found = ids[at] == rows
            tf[found, j] = tfs[at[found]]
        return tf

    def search(self, text: str, k: int = 5) -> list[tuple[int, float]]:
        """The k best texts: the `RERANK` best by the figure, re-read as a pool of their own.

        Among near rivals (other messages about the same estate, the same school) the terms they all
        share tell nothing: the second stage counts IDF among those candidates (`_pool_scores`, as the
        duplicate finder does over a village) and adds it, × `LOCAL_WEIGHT`, to the figure over the
        best figure. The similarity given is the figure. In a large index the candidates are chosen
        without the query's terms found in more than `COMMON_SHARE` of the texts (single characters
        such as 市 or 的: long posting lists, little weight), and their figure then counted in full."""
        common = COMMON_SHARE * self.size if self.size > 10 * RERANK else self.size
        rough, keys, weights, masses, counts, own = self._scores(text, common)
        k = min(k, self.size)
        if k <= 0:
            return []
        n = min(RERANK, self.size)
        best = np.argpartition(-rough, n - 1)[:n]
        best = best[np.argsort(-rough[best], kind="stable")]
        tf = self._counts(keys, best)
        if own <= 0:
            return [(int(i), 0.0) for i in best[:k]]
        said = (_saturated(tf, self.norm[best][:, None]) * masses[None, :]).sum(axis=1) / own
        first = np.minimum(said, 1.0)
        order = np.argsort(-first, kind="stable")
        if first[order[0]] > 0:
            local = _pool_scores(weights, counts, tf, self.lengths[best], LOCAL_CORPUS)
            order = np.argsort(-(first / first[order[0]] + LOCAL_WEIGHT * local), kind="stable")
        return [(int(best[i]), float(first[i])) for i in order[:k]]
