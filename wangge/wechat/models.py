"""What the official account's callback keeps: a short draft per resident, each message once, each report's link."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class WeChatDraft(models.Model):
    """What one resident (openid) has sent so far: a demand is filed once it has words and a place."""

    openid = models.CharField(max_length=64, unique=True)
    text = models.TextField(blank=True)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    label = models.CharField(max_length=300, blank=True)
    # WeChat keeps the picture (media id for 3 days, PicUrl): it is fetched later, never while WeChat waits.
    photo_media_id = models.CharField(max_length=128, blank=True)
    photo_url = models.URLField(max_length=500, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("WeChat draft")
        verbose_name_plural = _("WeChat drafts")

    def __str__(self) -> str:
        return self.openid

    @property
    def has_place(self) -> bool:
        return self.lat is not None and self.lng is not None


class WeChatInbound(models.Model):
    """One message WeChat delivered; WeChat retries a callback up to three times, and a retry gets the same reply."""

    msg_id = models.CharField(max_length=100, unique=True)
    openid = models.CharField(max_length=64, db_index=True)
    msg_type = models.CharField(max_length=20)
    reply = models.TextField(blank=True)
    demand = models.ForeignKey(
        "demands.Demand", db_constraint=False, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField()

    class Meta:
        verbose_name = _("WeChat message")
        verbose_name_plural = _("WeChat messages")

    def __str__(self) -> str:
        return self.msg_id


class PhotoState(models.TextChoices):
    NONE = "none", _("No photo")
    PENDING = "pending", _("Waiting to be fetched")
    FETCHED = "fetched", _("Fetched")
    FAILED = "failed", _("Could not be fetched")


class WeChatReport(models.Model):
    """A demand filed through the official account, with the photo WeChat holds for it until the worker
    fetches it into the demand's photos (`wangge.wechat.photos`)."""

    demand = models.OneToOneField(
        "demands.Demand", db_constraint=False, on_delete=models.CASCADE, related_name="wechat_report"
    )
    openid = models.CharField(max_length=64, db_index=True)
    photo_media_id = models.CharField(max_length=128, blank=True)
    photo_url = models.URLField(max_length=500, blank=True)
    photo_state = models.CharField(
        _("photo"), max_length=8, choices=PhotoState.choices, default=PhotoState.NONE, editable=False
    )
    photo_attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    photo_tried_at = models.DateTimeField(null=True, blank=True, editable=False)
    photo_error = models.CharField(max_length=300, blank=True, editable=False)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("WeChat report")
        verbose_name_plural = _("WeChat reports")
        indexes = [
            models.Index(
                fields=["photo_tried_at", "id"], name="wechatreport_photo_due", condition=Q(photo_state="pending")
            )
        ]

    def __str__(self) -> str:
        return str(self.demand_id)
