"""Users, their role and the areas or departments each may see (scope)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
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

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

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
