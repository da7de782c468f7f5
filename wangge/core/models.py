"""The one table of core: rate-limit counters when no Redis is configured (wangge.core.ratelimit)."""

from __future__ import annotations

from django.db import models


class RateCounter(models.Model):
    """One fixed-window counter per (client key, window length), counted by one upsert.

    `key` is a hash (a key may hold a phone number); `bucket` is the window the count belongs to: a hit in
    a later window starts again at one in the same row, so the table holds one row per client and rate.
    Rows whose window ended are deleted by the worker (`ratelimit.ratelimit_prune`).
    """

    key = models.CharField(max_length=64, primary_key=True)
    bucket = models.BigIntegerField()
    hits = models.PositiveIntegerField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "rate-limit counter"

    def __str__(self) -> str:
        return f"{self.key} {self.bucket}: {self.hits}"
