"""Visits (民情大走访): who visited which household, when and how, the opinions heard, the demand raised.

Rules kept by the models: a visit and its opinions carry the area path of the household's grid at
the time of the visit, so every read is one prefix filter (like demands); an opinion's follow-up
moves only forward (noted → adopted → answered); a retried form (same idempotency key) is one visit.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class How(models.TextChoices):
    """How the household was reached (docs/glossary.md: face to face, by phone, WeChat or a group meeting)."""

    IN_PERSON = "in_person", _("In person")
    PHONE = "phone", _("Phone")
    WECHAT = "wechat", _("WeChat")
    GROUP_MEETING = "group_meeting", _("Group meeting")


class OpinionCategory(models.TextChoices):
    """What an opinion is about: a small fixed list, not the demand catalogue.

    Opinions are views and suggestions counted in the monthly 民情 report by subject; they carry no
    time limit or department, so the demand catalogue (work-order categories with limits, edited by
    the city) would be both too fine and the wrong shape. Anything that needs doing becomes a demand,
    which has its own category.
    """

    DEVELOPMENT = "development", _("Industry and development")
    INFRASTRUCTURE = "infrastructure", _("Roads, water, power and facilities")
    ENVIRONMENT = "environment", _("Living environment")
    LIVELIHOOD = "livelihood", _("Livelihood: schooling, health, social help")
    SAFETY = "safety", _("Safety and disputes")
    POLICY = "policy", _("Policies and village affairs")
    PARTY = "party", _("Party building")
    OTHER = "other", _("Other")


class FollowUp(models.TextChoices):
    """Follow-up of an opinion: recorded, taken up by the village or town, answered to the resident."""

    NOTED = "noted", _("Noted")
    ADOPTED = "adopted", _("Adopted")
    ANSWERED = "answered", _("Answered")


# The follow-up only moves forward; an answered opinion is done.
FOLLOW_UP_NEXT: dict[str, tuple[str, ...]] = {
    FollowUp.NOTED: (FollowUp.ADOPTED, FollowUp.ANSWERED),
    FollowUp.ADOPTED: (FollowUp.ANSWERED,),
    FollowUp.ANSWERED: (),
}


class Visit(models.Model):
    """One contact with one household by one staff member; written only by `visit_log`."""

    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits", verbose_name=_("visitor")
    )
    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="visits", verbose_name=_("household")
    )
    # The household's grid when visited: a later move of the household does not move its history.
    grid = models.ForeignKey("registry.Area", on_delete=models.PROTECT, related_name="visits", verbose_name=_("grid"))
    area_path_fields = ("area_path",)  # rewritten by registry area_move
    area_path = models.CharField(max_length=255, db_index=True, editable=False)
    visited_at = models.DateTimeField(_("visited at"))
    how = models.CharField(_("how"), max_length=16, choices=How.choices, default=How.IN_PERSON)
    notes = models.TextField(_("notes"), blank=True)
    # The demand raised on this visit, created in the same transaction (channel "visit").
    demand = models.ForeignKey(
        "demands.Demand",
        db_constraint=False,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visits",
        verbose_name=_("demand raised"),
    )
    idempotency_key = models.CharField(max_length=128, unique=True, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("logged at"))

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_at", "-id"]
        indexes = [
            # Last visit per household, and "visited this month" (coverage): both read this index.
            models.Index(fields=["household", "visited_at"], name="visit_household_at"),
            models.Index(fields=["area_path", "visited_at"], name="visit_path_at"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.visited_at:%Y-%m-%d} {self.how}"


class Opinion(models.Model):
    """An opinion or suggestion heard on a visit; its follow-up is changed only by `opinion_follow_up`."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="opinions", verbose_name=_("visit"))
    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, related_name="opinions", verbose_name=_("household")
    )
    area_path_fields = ("area_path",)  # rewritten by registry area_move
    area_path = models.CharField(max_length=255, db_index=True, editable=False)
    text = models.TextField(_("opinion"))
    category = models.CharField(_("category"), max_length=16, choices=OpinionCategory.choices)
    state = models.CharField(_("follow-up"), max_length=10, choices=FollowUp.choices, default=FollowUp.NOTED)
    adopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="opinions_adopted"
    )
    adopted_at = models.DateTimeField(_("adopted at"), null=True, blank=True)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="opinions_answered"
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("heard at"))

    class Meta:
        verbose_name = _("opinion")
        verbose_name_plural = _("opinions")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["area_path", "state"], name="opinion_path_state")]

    def __str__(self) -> str:
        return self.text[:40]

    @property
    def next_states(self) -> tuple[str, ...]:
        return FOLLOW_UP_NEXT.get(self.state, ())
