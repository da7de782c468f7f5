"""Text similarity for duplicates and hot issues: pure functions over plain records, no database.

Duplicates compare one new message with a few hundred open demands nearby (`rank_duplicates`: the
text measure of `matching`, robust to rewording, plus place, time and category). Hot issues
group a whole period: TF-IDF over character 2–3-grams, an edge between two messages when each is
among the other's nearest neighbours above a cosine threshold (mutual neighbours stop the chaining
that plain single-link grouping suffers), connected components as groups, and each group named
by the key words that set it apart (class TF-IDF over rjieba words, stop words removed).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz import fuzz

from wangge.triage.matching import cached_terms, pool_similarity, terms
from wangge.triage.ml import STOP_WORDS, mask_personal, words

if TYPE_CHECKING:
    import scipy.sparse as sp
# scipy and scikit-learn are imported inside the functions that group hot issues: the URLconf
# reaches this module through the triage selectors, and only those functions need them.

_KEEP_RE = re.compile(r"[^0-9a-z\u4e00-\u9fff]+")
# Anonymised or coded places ("A市", "A7县", "D3区") glue onto the next word when segmented ("市伊").
_PLACE_CODE_RE = re.compile(r"(?<![A-Za-z])[A-Za-z]\d{0,3}[市县区]")
# Words that describe the act of writing, not the problem ("反映", "咨询" are in STOP_WORDS already).
_HOT_STOP_TEXT = """
市民 居民 群众 业主 网友 老百姓 小区 地方 有人 大家 解决 处理 要求 不能 不是 没人 帮助 回复
答复 举报 询问 一下 可能 这种 存在 导致 造成 出现 已经 发现 影响 每天 现在 以前 之前 之后
后来 开始 一直 经常 多次 几次 很多 很大 特别 真的 希望 能够 是否 为何 为啥 怎样 何时 多少
这么 那么 还是 以及 同时 并且 我家 我们 他们 你们 本人 自己
"""
_HOT_STOP = STOP_WORDS | frozenset(_HOT_STOP_TEXT.split())


def squash(text: str) -> str:
    """Letters, digits and Chinese characters only, lower case: what similarity compares."""
    return _KEEP_RE.sub("", unicodedata.normalize("NFKC", text or "").lower())


def _bigrams(text: str) -> Counter[str]:
    s = squash(text)
    if len(s) < 2:
        return Counter([s]) if s else Counter()
    return Counter(s[i : i + 2] for i in range(len(s) - 1))


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    small, large = (a, b) if len(a) < len(b) else (b, a)
    dot = sum(v * large.get(k, 0) for k, v in small.items())
    if not dot:
        return 0.0
    return dot / math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))


def key_words(text: str) -> list[str]:
    """rjieba words worth comparing or showing: two characters or more, no stop words, not pure ASCII."""
    out = []
    text = _PLACE_CODE_RE.sub(" ", unicodedata.normalize("NFKC", text or ""))
    for w in words(text.lower()):
        if len(w) < 2 or w in _HOT_STOP or w.isascii():
            continue
        out.append(w)
    return out


@dataclass(frozen=True)
class Candidate:
    """An open demand nearby, as the duplicate finder sees it (`road`: the road of its address, if any)."""

    id: int
    title: str
    description: str
    category_code: str | None = None
    area_path: str = ""
    lat: float | None = None
    lng: float | None = None
    road: str = ""
    age_days: float | None = None


@dataclass(frozen=True)
class Match:
    id: int
    score: float
    similarity: float
    reasons: tuple[str, ...]
    distance_m: float | None = None

    @property
    def reason(self) -> str:
        return "；".join(self.reasons)


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    r = 6371000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class _Features:
    whole: Counter[str]
    title: Counter[str]
    words: str


def _features(title: str, body: str) -> _Features:
    return _Features(
        whole=_bigrams(f"{title} {body}"),
        title=_bigrams(title),
        words=" ".join(sorted(set(key_words(f"{title} {body}")))),
    )


def _similarity(a: _Features, b: _Features) -> float:
    whole = _cosine(a.whole, b.whole)
    titles = _cosine(a.title, b.title)
    ratio = fuzz.token_sort_ratio(a.words, b.words) / 100 if a.words and b.words else 0.0
    return 0.6 * max(whole, titles) + 0.4 * ratio


def text_similarity(title_a: str, body_a: str, title_b: str, body_b: str) -> float:
    """0..1: the better of title-to-title and whole-text bigram cosine, blended with a key-word ratio.

    The governance topics' autolink measure; the duplicate finder uses `matching` (synonyms, BM25)."""
    return _similarity(_features(title_a, body_a), _features(title_b, body_b))


# What place, time and category add to the text's similarity (the text must carry at least
# TEXT_FLOOR × threshold by itself: a shared spot and category alone are not a duplicate).
NEAR_METRES = 500.0  # the distance bonus falls linearly from NEAR_BONUS at 0 m to nothing here
NEAR_BONUS = 0.15
SAME_GRID_BONUS = 0.05
SAME_ROAD_BONUS = 0.05
SAME_CATEGORY_BONUS = 0.1
RECENT_BONUS = 0.05  # reported today; nothing at the end of the window
TEXT_FLOOR = 0.5


def _same_category(a: str | None, b: str | None) -> bool:
    return bool(a and b and (a == b or a.startswith(b) or b.startswith(a)))


def rank_duplicates(
    *,
    title: str,
    description: str,
    candidates: Iterable[Candidate],
    area_path: str = "",
    category_code: str | None = None,
    lat: float | None = None,
    lng: float | None = None,
    road: str = "",
    window_days: float | None = None,
    threshold: float = 0.45,
    limit: int = 5,
) -> list[Match]:
    """Candidates that say the same thing, best first: text (`matching.pool_similarity`, robust to
    rewording) plus place (distance, same grid, same road), time and category.

    Each match carries its distance when both points are known and its reasons in words."""
    pool = list(candidates)
    texts = pool_similarity(terms(f"{title} {description}"), [cached_terms(c.title, c.description) for c in pool])
    found: list[Match] = []
    for c, text in zip(pool, texts, strict=True):
        similarity = float(text)
        if similarity < threshold * TEXT_FLOOR:
            continue
        score = similarity
        reasons = [f"文本相似度 {similarity:.2f}"]
        metres = None
        if lat is not None and lng is not None and c.lat is not None and c.lng is not None:
            metres = distance_m(lat, lng, c.lat, c.lng)
            if metres < NEAR_METRES:
                score += NEAR_BONUS * (1 - metres / NEAR_METRES)
            reasons.append(f"相距约 {round(metres)} 米")
        if area_path and c.area_path == area_path:
            score += SAME_GRID_BONUS
            reasons.append("同一网格")
        elif area_path:
            reasons.append("同一村（社区）")
        if road and c.road == road:
            score += SAME_ROAD_BONUS
            reasons.append(f"同在{road}")
        if _same_category(category_code, c.category_code):
            score += SAME_CATEGORY_BONUS
            reasons.append("同一类别")
        if window_days and c.age_days is not None:
            score += RECENT_BONUS * max(0.0, 1 - c.age_days / window_days)
        if score >= threshold:
            found.append(
                Match(
                    id=c.id,
                    score=round(min(score, 1.0), 3),
                    similarity=round(similarity, 3),
                    reasons=tuple(reasons),
                    distance_m=round(metres, 1) if metres is not None else None,
                )
            )
    found.sort(key=lambda m: (-m.score, -m.id))
    return found[:limit]


# --- hot issues ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HotRecord:
    """One message or demand: who (user), where (area), how many stood behind it (support).

    `system` marks a record no person filed (a facility's failed inspection item, a proactive task):
    it belongs to the group but counts as nobody. `followers` are the people who joined it (their
    phones, the same identity as a reporter's `user`), each counted once across the group.
    """

    id: str
    title: str
    body: str = ""
    user: str = ""
    area: str = ""
    support: int = 0
    created_at: dt.datetime | None = None
    system: bool = False
    followers: tuple[str, ...] = ()


@dataclass
class HotGroup:
    """`users` counts people (distinct reporters and followers), `records` the system-filed records apart;
    `ids` are a few examples, `member_ids` every record of the group."""

    key_words: list[str]
    size: int
    users: int
    areas: int
    support: int
    heat: float
    ids: list[str]
    titles: list[str]
    first_at: dt.datetime | None = None
    last_at: dt.datetime | None = None
    extra: dict[str, object] = field(default_factory=dict)
    records: int = 0
    member_ids: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return "、".join(self.key_words)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "key_words": self.key_words,
            "size": self.size,
            "users": self.users,
            "records": self.records,
            "areas": self.areas,
            "support": self.support,
            "heat": round(self.heat, 2),
            "ids": self.ids,
            "titles": self.titles,
            "first_at": self.first_at.isoformat() if self.first_at else None,
            "last_at": self.last_at.isoformat() if self.last_at else None,
        }


def heat_of(*, size: int, users: int, areas: int, support: int, records: int = 0) -> float:
    """Rank of a group: distinct people count fully, repeats by the same people a quarter, places
    beyond the first a half, and net support (likes − dislikes, merged reports) on a half log2 scale.
    `size` is the demands people filed; system-filed records add only a quarter on a log2 scale, so
    68 automatic inspection failures never outrank a dozen residents."""
    return (
        users
        + 0.25 * max(size - users, 0)
        + 0.5 * max(areas - 1, 0)
        + 0.5 * math.log2(1 + max(support, 0))
        + 0.25 * math.log2(1 + max(records, 0))
    )


def _edges(x: sp.csr_matrix, *, threshold: float, neighbours: int, chunk: int = 512) -> sp.csr_matrix:
    """Mutual-nearest-neighbour graph above a cosine threshold, built in row chunks (bounded memory)."""
    import scipy.sparse as sp

    n = x.shape[0]
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    xt = x.T.tocsc()
    for start in range(0, n, chunk):
        block = (x[start : start + chunk] @ xt).toarray()
        for i in range(block.shape[0]):
            block[i, start + i] = 0.0
        k = min(neighbours, n - 1)
        if k <= 0:
            break
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
        for i in range(block.shape[0]):
            js = top[i][block[i, top[i]] >= threshold]
            if js.size:
                rows.append(np.full(js.size, start + i))
                cols.append(js)
    if not rows:
        return sp.csr_matrix((n, n))
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    knn = sp.csr_matrix((np.ones(r.size, dtype=np.int8), (r, c)), shape=(n, n))
    return knn.multiply(knn.T).tocsr()  # both must list each other


def hot_text(title: str, body: str, *, max_body_chars: int = 200) -> str:
    """What hot-issue grouping compares of a message: its title twice, then the start of its body."""
    return squash(f"{title} {title} {(body or '')[:max_body_chars]}")


def char_counts(docs: Sequence[str]) -> sp.csr_matrix:
    """Hashed character 1–3-gram counts (2^20 features, float32), one row a text."""
    from sklearn.feature_extraction.text import HashingVectorizer

    vectorizer = HashingVectorizer(
        analyzer="char", ngram_range=(1, 3), n_features=2**20, alternate_sign=False, norm=None, dtype=np.float32
    )
    return vectorizer.transform(docs).tocsr()


def _char_tfidf(docs: Sequence[str]) -> sp.csr_matrix:
    """Hashed character 1–3-grams, sublinear TF × smoothed IDF, rows of unit length.

    Hashing needs no vocabulary (building and sorting one dominated the time on a real month).
    Over a real period, n-grams in more than a tenth of the messages ("小区", "我们") say nothing
    about which problem and make the similarity product slow, so they are dropped; a handful of
    messages keeps them all.
    """
    import scipy.sparse as sp
    from sklearn.preprocessing import normalize

    counts = char_counts(docs).tocsc()
    n = counts.shape[0]
    df = np.diff(counts.indptr)
    # A pseudo-corpus of 50 documents keeps IDF from wiping out the shared words of a small set
    # (a village's week: five reports of one broken light are most of the documents).
    idf = np.log((50 + n) / (1 + df)).astype(np.float32)
    if n >= 500:
        idf[df > 0.1 * n] = 0
    x = counts.tocsr()
    x.data = np.log1p(x.data)
    x = x @ sp.diags(idf)
    x.eliminate_zeros()
    return normalize(x).tocsr()


def _merge_close_groups(x: sp.csr_matrix, labels: np.ndarray, *, threshold: float) -> np.ndarray:
    """Join groups whose centroids are close: the same problem told in two wordings (one pass)."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components
    from sklearn.preprocessing import normalize

    _, inverse, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    multi = np.flatnonzero(sizes >= 2)
    if multi.size < 2:
        return labels
    # Centroid of each multi-member group: mean of its rows, unit length.
    pick = np.isin(inverse, multi)
    rows = np.flatnonzero(pick)
    col_of = {g: j for j, g in enumerate(multi)}
    member = sp.csr_matrix(
        (np.ones(rows.size, dtype=np.float32), ([col_of[g] for g in inverse[rows]], rows)),
        shape=(multi.size, x.shape[0]),
    )
    centroids = normalize(member @ x)
    sim = (centroids @ centroids.T).toarray()
    np.fill_diagonal(sim, 0)
    link = sp.csr_matrix(sim >= threshold)
    n_comp, comp = connected_components(link, directed=False)
    if n_comp == multi.size:
        return labels
    merged = inverse.copy()
    for j, g in enumerate(multi):
        merged[inverse == g] = multi[comp == comp[j]][0]
    return merged


def hot_groups(
    records: Sequence[HotRecord],
    *,
    top: int = 10,
    threshold: float = 0.3,
    neighbours: int = 30,
    merge_threshold: float = 0.45,
    min_size: int = 2,
    examples: int = 5,
    max_body_chars: int = 200,
) -> list[HotGroup]:
    """Groups of records about the same problem, hottest first (see `heat_of`)."""
    if len(records) < 2:
        return []
    from scipy.sparse.csgraph import connected_components

    docs = [hot_text(r.title, r.body, max_body_chars=max_body_chars) for r in records]
    x = _char_tfidf(docs)
    graph = _edges(x, threshold=threshold, neighbours=neighbours)
    _, labels = connected_components(graph, directed=False)
    labels = _merge_close_groups(x, labels, threshold=merge_threshold)
    members: dict[int, list[int]] = {}
    for i, g in enumerate(labels):
        members.setdefault(int(g), []).append(i)
    groups = [m for m in members.values() if len(m) >= min_size]
    return describe_groups(records, groups, top=top, examples=examples, max_body_chars=max_body_chars)


def describe_groups(
    records: Sequence[HotRecord],
    groups: Sequence[Sequence[int]],
    *,
    top: int = 10,
    examples: int = 5,
    max_body_chars: int = 200,
) -> list[HotGroup]:
    """Each group (positions in `records`) counted, named and ranked, hottest first (see `heat_of`).

    Key words are in most of the group and rare among `records`: `hot_groups` passes the period,
    the worker's hot sets the members of the groups they keep (`hot_reads`)."""
    if not groups:
        return []
    # Key words: in most of the group, rare in the period. Titles name the problem; a body's
    # words count only when its title has none.
    rec_words = [set(key_words(r.title)) or set(key_words((r.body or "")[:max_body_chars])) for r in records]
    df: Counter[str] = Counter()
    for ws in rec_words:
        df.update(ws)
    n = len(records)

    out: list[HotGroup] = []
    for m in groups:
        people = {records[i].user or f"#{records[i].id}" for i in m if not records[i].system}
        for i in m:
            people.update(f for f in records[i].followers if f)
        users = len(people)
        system = sum(1 for i in m if records[i].system)
        areas = len({records[i].area for i in m if records[i].area}) or 1
        support = sum(records[i].support for i in m)
        size = len(m)
        tf: Counter[str] = Counter()
        for i in m:
            tf.update(rec_words[i])
        scored = sorted(
            ((count / size) ** 2 * math.log(1 + n / df[w]), w) for w, count in tf.items() if count >= max(2, size * 0.3)
        )
        names = _distinct_words([w for _, w in reversed(scored)], 4)
        if not names:
            names = _distinct_words([w for w, _ in tf.most_common(6)], 3)
        ordered = sorted(m, key=lambda i: (-records[i].support, str(records[i].id)))
        times = [t for t in (records[i].created_at for i in m) if t is not None]
        out.append(
            HotGroup(
                key_words=names,
                size=size,
                users=users,
                areas=areas,
                support=support,
                heat=heat_of(size=size - system, users=users, areas=areas, support=support, records=system),
                ids=[str(records[i].id) for i in ordered[:examples]],
                titles=[mask_personal(records[i].title) for i in ordered[:examples]],
                first_at=min(times) if times else None,
                last_at=max(times) if times else None,
                records=system,
                member_ids=[str(records[i].id) for i in ordered],
            )
        )
    out.sort(key=lambda g: (-g.heat, -g.size, g.ids[0]))
    return out[:top]


def _distinct_words(candidates: list[str], n: int) -> list[str]:
    """Up to n words, skipping one that is part of a word already chosen (路灯 after 路灯不亮)."""
    chosen: list[str] = []
    for w in candidates:
        if any(w in c or c in w for c in chosen):
            continue
        chosen.append(w)
        if len(chosen) == n:
            break
    return chosen
