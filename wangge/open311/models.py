"""What Open311 adds to a demand it filed: the key, the media URLs, the client's ids, and a token."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Open311Submission(models.Model):
    """One demand filed through Open311 POST requests; the demand itself is written by demands.services."""

    demand = models.OneToOneField(
        "demands.Demand", db_constraint=False, on_delete=models.CASCADE, related_name="open311_submission"
    )
    api_key = models.ForeignKey(
        "accounts.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="open311_submissions"
    )
    # Looked up by GET tokens/<token> when the endpoint runs as "batch"; unguessable, never the resident's link.
    token = models.CharField(max_length=64, unique=True, editable=False)
    # v2 has no upload: clients send URLs of their own media; we keep them and echo the first.
    media_urls = models.JSONField(_("media URLs"), default=list, blank=True)
    # Personal data given by the client; stored for the staff, never echoed by Open311 reads.
    email = models.EmailField(_("email"), blank=True)
    account_id = models.CharField(max_length=100, blank=True)
    device_id = models.CharField(max_length=100, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("Open311 submission")
        verbose_name_plural = _("Open311 submissions")

    def __str__(self) -> str:
        return f"open311 → {self.demand_id}"
