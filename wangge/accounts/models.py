"""Users, their role and the areas or departments each may see (scope)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a user does; the scope rows say where."""

    GRID_LEADER = "grid_leader", _("Grid leader")
    BRANCH = "branch", _("Party branch")
    VILLAGE = "village", _("Village staff")
    TOWN = "town", _("Town staff")
    DEPARTMENT = "department", _("Department staff")
    CITY_ADMIN = "city_admin", _("City administrator")
    AUDITOR = "auditor", _("Auditor (read-only)")
    # The service account behind one integrator's API key: holds nothing, sees the key's scope.
    INTEGRATION = "integration", _("Integration (API key)")
    # Verifies resolved demands on site before they count as resolved (核查); holds nothing, sees its areas.
    SUPERVISOR = "supervisor", _("Supervisor (verifier)")
    # 回访员: the call-back desk (a 12345 centre's 回访 seats): calls back resolved demands of its areas,
    # holds nothing.
    CALL_BACK_CLERK = "call_back_clerk", _("Call-back clerk")


# What WeCom accepts as a member's account (userid): 1–64 letters, digits and _-.@, starting with a
# letter or digit; WeCom ignores case, so two ids differing only in case are the same person.
WECOM_USERID_RE = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"


# The area level each area-bound role is normally scoped to.
ROLE_LEVEL: dict[str, str] = {
    Role.GRID_LEADER: "grid",
    Role.BRANCH: "branch",
    Role.VILLAGE: "village",
    Role.TOWN: "town",
    Role.CITY_ADMIN: "city",
    Role.AUDITOR: "city",
}


class User(AbstractUser):
    """A staff member; sees only what their scope rows cover (rule: selectors filter by scope)."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.GRID_LEADER)
    display_name = models.CharField(_("display name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    # The account's user id in the county's WeCom (企业微信) corp: staff messages go there when set.
    wecom_userid = models.CharField(
        _("WeCom user id"),
        max_length=64,
        blank=True,
        default="",
        validators=[
            RegexValidator(
                WECOM_USERID_RE,
                _("a WeCom user id is 1 to 64 letters, digits or _ - . @, starting with a letter or digit"),
            )
        ],
        help_text=_("The member's account (userid) in the WeCom address book; staff notifications are pushed there."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # Blank means "not bound"; a bound id belongs to one account only.
            models.UniqueConstraint(
                Lower("wecom_userid"),
                condition=~models.Q(wecom_userid=""),
                name="user_unique_wecom_userid",
                violation_error_message=_("this WeCom user id is bound to another account"),
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_read_only(self) -> bool:
        return self.role == Role.AUDITOR


class UserScope(models.Model):
    """One area (with everything below it) or one department that a user may see and act in."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="scopes")
    area = models.ForeignKey(
        "registry.Area", null=True, blank=True, on_delete=models.CASCADE, related_name="user_scopes"
    )
    department = models.ForeignKey(
        "registry.Department", null=True, blank=True, on_delete=models.CASCADE, related_name="user_scopes"
    )

    class Meta:
        verbose_name = _("scope")
        verbose_name_plural = _("scopes")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(area__isnull=False, department__isnull=True)
                    | models.Q(area__isnull=True, department__isnull=False)
                ),
                name="userscope_area_xor_department",
            ),
            models.UniqueConstraint(fields=["user", "area"], name="userscope_unique_area"),
            models.UniqueConstraint(fields=["user", "department"], name="userscope_unique_department"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.area or self.department}"


class ApiToken(models.Model):
    """A bearer token for a staff app; only its hash is stored, it acts as its user with their scope."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=8, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class KeyPermission(models.TextChoices):
    """What an integrator's key may do; everything not listed here is refused to keys."""

    DEMANDS_READ = "demands:read", _("Read demands and categories")
    DEMANDS_CREATE = "demands:create", _("File demands")
    REGISTRY_READ = "registry:read", _("Read areas and households")
    OPEN311 = "open311", _("Open311 GeoReport v2 (post and read requests)")


class ApiKey(models.Model):
    """An integrator's key (12345 hotline, mini-program): hashed, scoped to areas/departments, rate-limited.

    It acts through its own service account (role `integration`, no scope rows, no password), so
    that demands it files name it as their creator; `scope_for` gives that account the key's scope.
    """

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    account = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="api_key", editable=False, verbose_name=_("service account")
    )
    areas = models.ManyToManyField(
        "registry.Area", blank=True, related_name="api_keys", verbose_name=_("areas (with everything below)")
    )
    departments = models.ManyToManyField(
        "registry.Department", blank=True, related_name="api_keys", verbose_name=_("departments")
    )
    permissions = models.JSONField(_("permissions"), default=list)
    rate_limit_per_minute = models.PositiveIntegerField(_("requests per minute"), default=60)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="api_keys_created", editable=False
    )
    created_at = models.DateTimeField(_("created at"), editable=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def allows(self, permission: str) -> bool:
        return permission in (self.permissions or [])
