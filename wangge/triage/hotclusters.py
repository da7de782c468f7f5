"""Hot clusters (热点聚类): each new demand is put in a cluster once, by the worker, so hot sets are a GROUP BY.

Grouping a whole window from scratch (`similarity.hot_groups`) costs seconds at millions of demands
and grows with the window. Here each demand, when the worker first sees it, joins the nearest
cluster of its city whose last member is inside the longest hot window (TRIAGE_HOT_DAYS), if the
cosine to that cluster's centroid reaches CLUSTER_THRESHOLD, else it starts a cluster (`HotMember`
records which). A pass reads only the demands created since the last one (`new_demands`), so its
cost is bounded by the intake, not by history; `hot_reads.clustered_hot_issues` then groups a
window's demands by their cluster in SQL.

The text measure is the from-scratch grouping's: hashed character 1–3-grams of `hot_text`,
sublinear counts, IDF and unit length (`similarity.char_counts`). The IDF is counted over the
centroids of the city's active clusters (the grouping counts it over the period's messages), with
the same 50 imagined documents and the same cut of n-grams in more than a tenth of them. How close
the result is to grouping from scratch is measured by `bench/bench_hot_clusters.py` and tested in
tests/test_hot_clusters.py; within one batch a cluster's centroid is the one it had before the batch.

The centroids of the active clusters are kept in memory between passes (`_POOL`), refreshed from
the rows changed since (another worker's too), so a warm pass reads only what changed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q

from wangge.core import clock
from wangge.triage.models import HotCluster, HotMember
from wangge.triage.similarity import char_counts, hot_text

if TYPE_CHECKING:
    import scipy.sparse as sp

# A demand joins a cluster whose centroid is at least this close (cosine); the from-scratch grouping
# links two messages at 0.3 and joins two groups whose centroids reach 0.45.
CLUSTER_THRESHOLD = 0.3
# Two clusters of two demands or more whose centroids reach this cosine become one (as the from-scratch
# grouping joins its groups, `similarity.hot_groups` merge_threshold).
MERGE_THRESHOLD = 0.5
# The most new demands one pass assigns (a backlog is worked off over the next passes).
BATCH = 2000
# The most clusters that left the window one pass deletes.
PRUNE = 500
# Demands created this long before the last assigned one are looked at again (a transaction that
# committed late leaves a gap below the highest id seen).
LATE_COMMIT = dt.timedelta(minutes=10)
FEATURES = 2**20
CLUSTER_FIELDS = ("city_path", "vector", "size", "last_at", "updated_at")


def city_of(area_path: str) -> str:
    """The city (first level) part of a path: clusters never cross cities."""
    head = (area_path or "").split("/", 1)[0]
    return f"{head}/" if head else ""


def longest_window() -> dt.timedelta:
    return dt.timedelta(days=max(getattr(settings, "TRIAGE_HOT_DAYS", (7, 30, 90))))


def pack(vector: tuple[np.ndarray, np.ndarray]) -> bytes:
    """A sparse vector (feature ids, weights) as bytes: its int32 feature ids, then its float32 weights."""
    indices, data = vector
    return indices.astype(np.int32).tobytes() + data.astype(np.float32).tobytes()


def unpack(data: bytes | memoryview) -> tuple[np.ndarray, np.ndarray]:
    n = len(data) // 8
    raw = bytes(data)
    return np.frombuffer(raw[: 4 * n], dtype=np.int32), np.frombuffer(raw[4 * n :], dtype=np.float32)


def unit_counts(texts: list[str]) -> sp.csr_matrix:
    """Sublinear n-gram counts of each text, each row of unit length (no IDF: that is applied when compared)."""
    from sklearn.preprocessing import normalize

    x = char_counts(texts)
    x.data = np.log1p(x.data)
    return normalize(x).tocsr()


def idf_of(df: np.ndarray, n: int) -> np.ndarray:
    """The grouping's IDF (`similarity._char_tfidf`): 50 imagined documents; over 500, common n-grams weigh nothing."""
    idf = np.log((50 + n) / (1 + df)).astype(np.float32)
    if n >= 500:
        idf[df > 0.1 * n] = 0
    return idf


@dataclass
class _City:
    """The centroids (raw sums of unit vectors) of one city's active clusters, by cluster id."""

    vectors: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    last_at: dict[int, dt.datetime] = field(default_factory=dict)
    size: dict[int, int] = field(default_factory=dict)

    def keep(self, cluster: HotCluster) -> None:
        self.vectors[cluster.pk] = unpack(bytes(cluster.vector))
        self.last_at[cluster.pk] = cluster.last_at
        self.size[cluster.pk] = cluster.size

    def drop(self, pk: int) -> None:
        self.vectors.pop(pk, None), self.last_at.pop(pk, None), self.size.pop(pk, None)


@dataclass
class _Pool:
    cities: dict[str, _City] = field(default_factory=dict)
    seen_until: dt.datetime | None = None
    db_alias: str = ""


_POOL = _Pool()


def pool_forget() -> None:
    """Drop the centroids kept in memory (tests; a worker that lost its database)."""
    global _POOL
    _POOL = _Pool()


def _pool_refresh(cutoff: dt.datetime) -> _Pool:
    """The active clusters, read whole the first time, then only the rows changed since the last read."""
    from django.db import connection

    global _POOL
    if _POOL.db_alias != connection.settings_dict.get("NAME", ""):
        _POOL = _Pool(db_alias=str(connection.settings_dict.get("NAME", "")))
    qs = HotCluster.objects.filter(last_at__gte=cutoff)
    incremental = _POOL.seen_until is not None
    if incremental:
        qs = qs.filter(updated_at__gte=_POOL.seen_until)
    newest = _POOL.seen_until
    for cluster in qs.only("pk", "city_path", "vector", "size", "last_at", "updated_at"):
        _POOL.cities.setdefault(cluster.city_path, _City()).keep(cluster)
        updated_at = cluster.updated_at
        newest = updated_at if newest is None or updated_at > newest else newest
    _POOL.seen_until = newest
    for entry in _POOL.cities.values():
        for pk in [pk for pk, at in entry.last_at.items() if at < cutoff]:
            entry.drop(pk)
    kept = sum(len(entry.vectors) for entry in _POOL.cities.values())
    if incremental and kept != HotCluster.objects.filter(last_at__gte=cutoff).count():
        # Rows went away (a rollback, a deletion) or came in unseen: read them all again.
        _POOL = _Pool(db_alias=_POOL.db_alias)
        return _pool_refresh(cutoff)
    return _POOL


def _matrix(entry: _City) -> tuple[list[int], sp.csr_matrix]:
    import scipy.sparse as sp

    ids = list(entry.vectors)
    if not ids:
        return ids, sp.csr_matrix((0, FEATURES), dtype=np.float32)
    lengths = [entry.vectors[i][0].size for i in ids]
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = np.concatenate([entry.vectors[i][0] for i in ids])
    data = np.concatenate([entry.vectors[i][1] for i in ids])
    return ids, sp.csr_matrix((data, indices, indptr), shape=(len(ids), FEATURES))


def new_demands(*, now: dt.datetime, limit: int = BATCH) -> list[tuple[int, str, str, str, dt.datetime]]:
    """(id, title, description, area path, created at) of demands inside the longest window not yet in a
    cluster: above the highest id assigned, or created shortly before it (late commits), oldest id first."""
    from wangge.demands.models import Demand

    top = HotMember.objects.aggregate(top=Max("demand_id"))["top"] or 0
    late_from = now - LATE_COMMIT
    if top:
        at = Demand.objects.filter(pk=top).values_list("created_at", flat=True).first()
        late_from = min(late_from, (at or now) - LATE_COMMIT)
    qs = (
        Demand.objects.filter(created_at__gte=now - longest_window())
        .filter(Q(pk__gt=top) | Q(created_at__gte=late_from))
        .exclude(Exists(HotMember.objects.filter(demand_id=OuterRef("pk"))))
        .order_by("pk")
        .values_list("pk", "title", "description", "area_path", "created_at")
    )
    return list(qs[:limit])


def assign(rows: list[tuple[int, str, str, str, dt.datetime]], *, now: dt.datetime) -> int:
    """Put each row in a cluster of its city (see the module docstring); returns how many were assigned."""
    if not rows:
        return 0
    pool = _pool_refresh(now - longest_window())
    by_city: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        by_city.setdefault(city_of(row[3]), []).append(i)
    raw = unit_counts([hot_text(r[1], r[2]) for r in rows])
    members: list[HotMember] = []
    try:
        with transaction.atomic():
            for city, positions in by_city.items():
                members.extend(_assign_city(pool.cities.setdefault(city, _City()), city, rows, positions, raw, now))
            HotMember.objects.bulk_create(members, ignore_conflicts=True)
            for city in by_city:
                entry = pool.cities[city]
                touched = sorted({m.cluster_id for m in members if m.cluster_id in entry.vectors})
                _join_close(entry, touched, now)
    except BaseException:
        # The centroids in memory were moved with the rows that just rolled back: read them again next time.
        pool_forget()
        raise
    return len(members)


def _join_close(entry: _City, touched: list[int], now: dt.datetime) -> None:
    """Clusters of two demands or more whose centroids came close join the largest of them (`close_groups`)."""
    ids, centroids = _matrix(entry)
    sizes = np.array([entry.size[i] for i in ids])
    for group in close_groups(ids, centroids, sizes, touched):
        keeper, *others = sorted(group, key=lambda pk: (-entry.size[pk], pk))
        clusters = HotCluster.objects.select_for_update().in_bulk(group)
        if len(clusters) < len(group):
            continue  # another worker joined them already
        kept = clusters[keeper]
        vector = unpack(kept.vector)
        for pk in others:
            vector = _sum_into(vector, unpack(clusters[pk].vector))
            kept.size += clusters[pk].size
            kept.last_at = max(kept.last_at, clusters[pk].last_at)
        kept.vector, kept.updated_at = pack(vector), now
        kept.save(update_fields=["vector", "size", "last_at", "updated_at"])
        HotMember.objects.filter(cluster_id__in=others).update(cluster_id=keeper)
        HotCluster.objects.filter(pk__in=others).delete()
        entry.keep(kept)
        for pk in others:
            entry.drop(pk)


def close_groups(
    ids: list[int],
    centroids: sp.csr_matrix,
    sizes: np.ndarray,
    touched: list[int],
    *,
    threshold: float = MERGE_THRESHOLD,
) -> list[list[int]]:
    """Groups of cluster ids to join: a touched cluster and the others whose centroid cosine reaches `threshold`,
    both of two members or more, joined transitively (the from-scratch grouping's one pass of joining
    close groups, `similarity._merge_close_groups`). Pure: no database."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components
    from sklearn.preprocessing import normalize

    pos = {pk: i for i, pk in enumerate(ids)}
    rows = np.array([pos[pk] for pk in touched if pk in pos and sizes[pos[pk]] >= 2], dtype=np.int64)
    multi = np.flatnonzero(sizes >= 2)  # singletons, most clusters, are never compared
    if not rows.size or multi.size < 2:
        return []
    idf = idf_of(np.bincount(centroids.indices, minlength=FEATURES), len(ids))
    x = normalize(_weigh(centroids[multi], idf))
    at = np.searchsorted(multi, rows)
    sims = (x @ x[at].T).tocoo()  # the clusters of two or more × the touched ones
    a, b = multi[sims.row], rows[sims.col]
    keep = (sims.data >= threshold) & (a != b)
    if not keep.any():
        return []
    a, b = a[keep], b[keep]
    link = sp.csr_matrix((np.ones(a.size), (a, b)), shape=(len(ids), len(ids)))
    _, label = connected_components(link, directed=False)
    groups: dict[int, list[int]] = {}
    for i in set(a) | set(b):
        groups.setdefault(int(label[i]), []).append(ids[i])
    return [g for g in groups.values() if len(g) >= 2]


def _assign_city(
    entry: _City, city: str, rows: list[tuple[int, str, str, str, dt.datetime]], positions: list[int],
    raw: sp.csr_matrix, now: dt.datetime,
) -> list[HotMember]:  # fmt: skip
    """One city's new demands against its clusters, then against the clusters the batch starts."""
    ids, centroids = _matrix(entry)
    batch = raw[positions]
    joined, started = place(batch, ids, centroids)
    members: list[HotMember] = []
    if joined:
        clusters = HotCluster.objects.select_for_update().in_bulk(list(joined))
        changed: list[HotCluster] = []
        for pk, ks in joined.items():
            cluster = clusters.get(pk)
            if cluster is None:  # gone since the pool was read: the demands start a cluster of their own
                entry.drop(pk)
                started.append(ks)
                continue
            vector = _sum_into(unpack(cluster.vector), batch[ks])
            cluster.vector = pack(vector)
            cluster.size += len(ks)
            cluster.last_at = max(cluster.last_at, *(rows[positions[k]][4] for k in ks))
            cluster.updated_at = now
            changed.append(cluster)
            entry.keep(cluster)
            members.extend(HotMember(demand_id=rows[positions[k]][0], cluster=cluster) for k in ks)
        HotCluster.objects.bulk_update(changed, ["vector", "size", "last_at", "updated_at"], batch_size=500)
    made = HotCluster.objects.bulk_create(
        [
            HotCluster(
                city_path=city,
                vector=pack(_sum_into(None, batch[ks])),
                size=len(ks),
                last_at=max(rows[positions[k]][4] for k in ks),
                updated_at=now,
            )
            for ks in started
        ]
    )
    if made and made[0].pk is None:  # a database that does not return ids from a bulk insert: one at a time
        made = [HotCluster.objects.create(**{f: getattr(c, f) for f in CLUSTER_FIELDS}) for c in made]
    for cluster, ks in zip(made, started, strict=True):
        entry.keep(cluster)
        members.extend(HotMember(demand_id=rows[positions[k]][0], cluster=cluster) for k in ks)
    return members


def place(
    batch: sp.csr_matrix, ids: list[int], centroids: sp.csr_matrix, *, threshold: float = CLUSTER_THRESHOLD
) -> tuple[dict[int, list[int]], list[list[int]]]:
    """Where each row of `batch` (`unit_counts`) goes, in order: the existing cluster (of `ids`, whose
    centroids are the rows of `centroids`) or the cluster started earlier in the batch whose centroid
    is nearest, at `threshold` or above, else a cluster of its own. Returns (cluster id → rows joining
    it, the rows of each cluster started). Pure: no database."""
    from sklearn.preprocessing import normalize

    df = np.bincount(centroids.indices, minlength=FEATURES) + np.bincount(batch.indices, minlength=FEATURES)
    idf = idf_of(df, len(ids) + batch.shape[0])
    b = normalize(_weigh(batch, idf))
    old = (normalize(_weigh(centroids, idf)) @ b.T).T.tocsr() if ids else None
    n = batch.shape[0]
    within = (b @ b.T).toarray()
    joined: dict[int, list[int]] = {}  # existing cluster id → batch rows
    started: list[list[int]] = []  # clusters the batch starts: batch rows
    # Column c: each row's dot product with the sum of started cluster c's weighted vectors; norms: its squared length.
    dots = np.zeros((n, n), dtype=np.float64)
    norms = np.ones(n, dtype=np.float64)
    for k in range(n):
        best, best_sim, best_new = -1, threshold, False
        if old is not None:
            lo, hi = old.indptr[k], old.indptr[k + 1]
            if hi > lo:
                j = lo + int(np.argmax(old.data[lo:hi]))
                if old.data[j] >= best_sim:
                    best, best_sim = ids[int(old.indices[j])], float(old.data[j])
        if started:
            sims = dots[k, : len(started)] / np.sqrt(norms[: len(started)])
            c = int(np.argmax(sims))
            if sims[c] >= best_sim:
                best, best_new = c, True
        if best < 0:
            best, best_new = len(started), True
            started.append([])
            norms[best] = 0.0  # an empty sum; the first member adds its own length, 1
        if best_new:
            norms[best] += 2 * dots[k, best] + 1.0
            dots[:, best] += within[:, k]
            started[best].append(k)
        else:
            joined.setdefault(best, []).append(k)
    return joined, started


def _weigh(x: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """Each column of `x` times its IDF (a copy; zero weights dropped)."""
    out = x.tocsr(copy=True)
    out.sum_duplicates()
    out.data = out.data * idf[out.indices]
    out.eliminate_zeros()
    return out


def _sum_into(
    vector: tuple[np.ndarray, np.ndarray] | None, rows: sp.csr_matrix | tuple[np.ndarray, np.ndarray] | None
) -> tuple[np.ndarray, np.ndarray]:
    """A sparse vector plus the sum of `rows` (feature ids sorted, each once), by numpy alone: a
    scipy product would allocate a work array as long as the 2^20 features for each cluster."""
    ids: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    for part in (vector, rows):
        if part is None:
            continue
        indices, data = part if isinstance(part, tuple) else (part.indices, part.data)
        ids.append(indices)
        weights.append(data)
    if not ids:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
    unique, inverse = np.unique(np.concatenate(ids), return_inverse=True)
    sums = np.bincount(inverse, weights=np.concatenate(weights), minlength=unique.size)
    return unique.astype(np.int32), sums.astype(np.float32)


def hot_clusters_pass(*, limit: int = BATCH) -> int:
    """The worker's part: the demands created since the last pass, each put in a cluster; returns how many.

    Clusters whose last demand left the longest window a week ago go, with their members (at most
    PRUNE a pass): no set reads them again, and the tables stay the size of the window."""
    now = clock.now()
    gone = list(
        HotCluster.objects.filter(last_at__lt=now - longest_window() - dt.timedelta(days=7)).values_list(
            "pk", flat=True
        )[:PRUNE]
    )
    if gone:
        HotMember.objects.filter(cluster_id__in=gone).delete()
        HotCluster.objects.filter(pk__in=gone).delete()
    return assign(new_demands(now=now, limit=limit), now=now)
