"""What happens to a demand, row by row: events, photos, comments, followers, lookup codes, call backs,
requests to the level above (延期, 挂起) and co-handling tasks (协办)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wangge.core.links import new_short_code
from wangge.core.masking import mask_phone
from wangge.demands.models.choices import ActorKind, RequestKind, RequestState, Satisfaction, Visibility
from wangge.demands.models.demand import Demand


class DemandEvent(models.Model):
    """One move in a demand's life; append-only (services only insert, nobody updates or deletes)."""

    demand = models.ForeignKey(Demand, db_constraint=False, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="demand_events"
    )
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices, default=ActorKind.STAFF)
    action = models.CharField(_("action"), max_length=16)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    from_holder = models.CharField(max_length=100, blank=True)
    to_holder = models.CharField(max_length=100, blank=True)
    note = models.TextField(_("note"), blank=True)
    is_public = models.BooleanField(default=True)
    # A public move whose note is internal (an escalation's reason, unless staff chose to show it): the
    # resident sees the move and not the note. Staff pages and keyed API readers see every note.
    note_public = models.BooleanField(default=True, db_default=True)
    # Set when a follower (not the reporter) wrote it: the reporter's page must not call it "You".
    follower = models.ForeignKey(
        "demands.DemandFollower", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )

    class Meta:
        verbose_name = _("demand event")
        verbose_name_plural = _("demand events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["demand", "at"], name="demandevent_demand_at")]

    def __str__(self) -> str:
        return f"{self.demand_id} {self.action} {self.from_state}→{self.to_state}"


class DemandPhoto(models.Model):
    """A cleaned photo (EXIF stripped) of a demand or of one of its events (e.g. the result)."""

    demand = models.ForeignKey(Demand, db_constraint=False, on_delete=models.CASCADE, related_name="photos")
    event = models.ForeignKey(
        DemandEvent, db_constraint=False, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    image = models.ImageField(upload_to="demands/%Y/%m/")
    uploaded_at = models.DateTimeField()
    by_resident = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.image.name


class DemandComment(models.Model):
    """A remark by a resident (always public) or staff (public or staff-only)."""

    demand = models.ForeignKey(Demand, db_constraint=False, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="demand_comments"
    )
    by_resident = models.BooleanField(default=False)
    body = models.TextField(_("comment"))
    visibility = models.CharField(max_length=8, choices=Visibility.choices, default=Visibility.STAFF)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:40]


class DemandFollower(models.Model):
    """A resident who reported the same problem follows an open demand by a token of their own and is told
    when it is resolved; the reporter and followers of a demand merged away become followers of its target."""

    demand = models.ForeignKey(
        Demand, db_constraint=False, on_delete=models.CASCADE, related_name="followers", verbose_name=_("demand")
    )
    phone = models.CharField(_("phone"), max_length=20)
    # Unguessable like the reporter's tracking token, but a different one: a follower can read the public
    # timeline and comment, never rate or add information in the reporter's name.
    token = models.CharField(max_length=64, unique=True, editable=False)
    short_code = models.CharField(max_length=16, unique=True, editable=False, default=new_short_code)
    # The demand that was merged into `demand` when this row was made by a merge (else empty).
    merged_from = models.ForeignKey(
        Demand,
        db_constraint=False,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("merged from"),
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("follower")
        verbose_name_plural = _("followers")
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["demand", "phone"], name="demandfollower_demand_phone")]

    def __str__(self) -> str:
        return f"{self.demand_id} {self.phone_masked}"

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)


class LookupCode(models.Model):
    """A one-time SMS code that proves a phone reported or follows a demand ("find my demand", 查询我的诉求).

    Only its keyed hash is stored; it expires, and counts the wrong codes typed against it.
    """

    demand = models.ForeignKey(
        Demand, db_constraint=False, on_delete=models.CASCADE, related_name="+", verbose_name=_("demand")
    )
    phone = models.CharField(_("phone"), max_length=20)
    code_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("lookup code")
        verbose_name_plural = _("lookup codes")
        indexes = [models.Index(fields=["demand", "phone", "-created_at"], name="lookupcode_pair")]

    def __str__(self) -> str:
        return f"{self.demand_id} {mask_phone(self.phone)}"


class CallBack(models.Model):
    """One phone call back (回访) to the reporter of a resolved demand, reached or not; never updated."""

    demand = models.ForeignKey(
        Demand, db_constraint=False, on_delete=models.CASCADE, related_name="call_backs", verbose_name=_("demand")
    )
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("called by")
    )
    reached = models.BooleanField(_("reached"))
    # Both empty when the reporter was not reached: the call only records the attempt.
    solved = models.BooleanField(_("solved"), null=True, blank=True)
    satisfaction = models.CharField(
        _("satisfaction"), max_length=12, choices=Satisfaction.choices, null=True, blank=True
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("call back")
        verbose_name_plural = _("call backs")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["demand", "at"], name="callback_demand_at")]

    def __str__(self) -> str:
        return f"{self.demand_id} {self.at:%Y-%m-%d %H:%M}"


class DemandRequest(models.Model):
    """A holder's request to the level above: more time (延期, a new deadline) or to stop the clock (挂起).

    One pending request per demand; the decision is written once (services only).
    """

    demand = models.ForeignKey(
        Demand, db_constraint=False, on_delete=models.CASCADE, related_name="requests", verbose_name=_("demand")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=RequestKind.choices)
    reason = models.TextField(_("reason"))
    # Extension: the new deadline asked for. Suspension: when the clock resumes by itself (empty: by hand).
    until = models.DateTimeField(_("until"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=RequestState.choices, default=RequestState.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"))
    # Whose staff decide: the area above the holder (for a department, the level that dispatched it).
    area_path_fields = ("approver_path",)  # rewritten by registry area_move
    approver_path = models.CharField(max_length=255, db_index=True, editable=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("extension or suspension request")
        verbose_name_plural = _("extension and suspension requests")
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["demand"], condition=Q(state="pending"), name="demandrequest_one_pending")
        ]

    def __str__(self) -> str:
        return f"{self.demand_id} {self.kind} {self.state}"


class DemandAssist(models.Model):
    """协办: an assisting department's task on a demand led by its holder, and the assistant's reply.

    The demand resolves only when every assistant has replied.
    """

    demand = models.ForeignKey(
        Demand, db_constraint=False, on_delete=models.CASCADE, related_name="assists", verbose_name=_("demand")
    )
    department = models.ForeignKey(
        "registry.Department", on_delete=models.PROTECT, related_name="assists", verbose_name=_("department")
    )
    task = models.TextField(_("task"))
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("assigned by")
    )
    assigned_at = models.DateTimeField(_("assigned at"))
    reply = models.TextField(_("reply"), blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)

    class Meta:
        verbose_name = _("co-handling task")
        verbose_name_plural = _("co-handling tasks")
        ordering = ["assigned_at", "id"]
        constraints = [models.UniqueConstraint(fields=["demand", "department"], name="demandassist_demand_dept")]
        indexes = [models.Index(fields=["department", "replied_at"], name="demandassist_dept_open")]

    def __str__(self) -> str:
        return f"{self.demand_id} {self.department_id}"
