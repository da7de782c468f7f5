"""Back office for users and their scopes: scoped lists; only superusers change who sees what.

A non-superuser staff member (a city administrator, an auditor, town staff with `is_staff`) sees
the users whose scope lies inside their own, read-only. Scope rows are written through
`accounts.services.user_set_scope`, which enforces the rule that a role is scoped to areas of its
level (or, for department staff, to departments only); a refusal rolls the whole save back and
shows the bilingual message.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import ApiKey, KeyPermission, User, UserScope
from wangge.accounts.scope import scope_for
from wangge.accounts.services import api_key_create, api_key_revoke, user_set_scope
from wangge.core.errors import WanggeError


def _users_in_scope(request: HttpRequest) -> Q:
    """Users with at least one scope row inside the acting user's scope."""
    scope = scope_for(request.user)
    return scope.area_q("scopes__area__path") | scope.department_q("scopes__department_id")


class _ReadForStaff:
    """Any active staff member may look (inside their scope); only a superuser may change."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)


class ScopeFormSet(forms.BaseInlineFormSet):
    """Checks the role/level rule with the real service inside a rolled-back savepoint."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors) or self.instance.pk is None:
            return  # a new user is checked for real in save_related
        areas, departments = _chosen(self.forms)
        try:
            with transaction.atomic():
                user = User.objects.get(pk=self.instance.pk)
                user.role = self.instance.role
                user_set_scope(user=user, areas=areas, departments=departments)
                raise _DryRun
        except _DryRun:
            pass
        except WanggeError as error:
            raise forms.ValidationError(f"{error.zh} / {error.en}") from None


class _DryRun(Exception):
    pass


def _chosen(forms_: list[Any]) -> tuple[list[Any], list[Any]]:
    areas, departments = [], []
    for form in forms_:
        data = getattr(form, "cleaned_data", None) or {}
        if not data or data.get("DELETE"):
            continue
        if data.get("area"):
            areas.append(data["area"])
        if data.get("department"):
            departments.append(data["department"])
    return areas, departments


class UserScopeInline(_ReadForStaff, admin.TabularInline):
    model = UserScope
    formset = ScopeFormSet
    extra = 0
    autocomplete_fields = ("area", "department")
    verbose_name = _("scope")
    verbose_name_plural = _("scopes")


class WanggeUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):  # type: ignore[name-defined]
        model = User


class WanggeUserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):  # type: ignore[name-defined]
        model = User
        fields = ("username", "role", "display_name")


@admin.register(User)
class UserAdmin(_ReadForStaff, DjangoUserAdmin):
    form = WanggeUserChangeForm
    add_form = WanggeUserCreationForm
    inlines = [UserScopeInline]
    list_display = ("username", "display_name", "role", "scope_col", "is_staff", "is_active")
    list_filter = ("role", "is_staff", "is_active")
    search_fields = ("username", "display_name", "wecom_userid")
    ordering = ("username",)
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Role and name"), {"fields": ("role", "display_name", "phone", "wecom_userid")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "role", "display_name", "usable_password", "password1", "password2"),
            },
        ),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        qs = super().get_queryset(request).prefetch_related("scopes__area", "scopes__department")
        if request.user.is_superuser:
            return qs
        return qs.filter(pk__in=User.objects.filter(_users_in_scope(request)).values("pk"))

    @admin.display(description=_("scopes"))
    def scope_col(self, obj: User) -> str:
        return "、".join(str(s.area.name if s.area is not None else s.department) for s in obj.scopes.all())

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Scope rows go through `user_set_scope` (a refusal rolls the whole save back)."""
        form.save_m2m()
        user = form.instance
        areas: list[Any] = []
        departments: list[Any] = []
        for formset in formsets:
            if formset.model is UserScope:
                a, d = _chosen(formset.forms)
                areas += a
                departments += d
                # The service replaced the rows; the change message reads these lists.
                formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            else:
                self.save_formset(request, form, formset, change=change)
        if areas or departments or not user.is_superuser:
            user_set_scope(user=user, areas=areas, departments=departments)


@admin.register(UserScope)
class UserScopeAdmin(_ReadForStaff, admin.ModelAdmin):
    list_display = ("user", "area", "department")
    list_select_related = ("user", "area", "department")
    autocomplete_fields = ("user", "area", "department")
    search_fields = ("user__username", "user__display_name", "area__name", "department__name")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_queryset(self, request: HttpRequest) -> QuerySet[UserScope]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        scope = scope_for(request.user)
        return qs.filter(scope.area_q("area__path") | scope.department_q("department_id"))

    def save_model(self, request: HttpRequest, obj: UserScope, form: Any, change: bool) -> None:
        """Adding or changing one row rewrites the user's scope through the service (its rules hold)."""
        user = obj.user
        rows = list(UserScope.objects.filter(user=user).exclude(pk=obj.pk).select_related("area", "department"))
        areas = [r.area for r in rows if r.area_id] + ([obj.area] if obj.area_id else [])
        departments = [r.department for r in rows if r.department_id] + ([obj.department] if obj.department_id else [])
        user_set_scope(user=user, areas=areas, departments=departments)
        saved = UserScope.objects.filter(user=user, area=obj.area, department=obj.department).first()
        if saved is not None:
            obj.pk = saved.pk
            obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: UserScope) -> None:
        rows = list(UserScope.objects.filter(user=obj.user).exclude(pk=obj.pk).select_related("area", "department"))
        user_set_scope(
            user=obj.user,
            areas=[r.area for r in rows if r.area_id],
            departments=[r.department for r in rows if r.department_id],
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[UserScope]) -> None:
        for row in queryset.select_related("user"):
            self.delete_model(request, row)


# --- API keys for integrators -----------------------------------------------------------------


class ApiKeyCreationForm(forms.ModelForm):
    """The fields of a new key; the key itself is made by `api_key_create` and shown once."""

    permissions = forms.MultipleChoiceField(
        label=_("permissions"), choices=KeyPermission.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ApiKey
        fields = ("name", "areas", "departments", "permissions", "rate_limit_per_minute")

    def clean(self) -> dict[str, Any]:
        """The service's rules, checked inside a savepoint that is rolled back (the real save follows)."""
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            with transaction.atomic():
                api_key_create(
                    name=data.get("name", ""),
                    permissions=data.get("permissions") or [],
                    areas=list(data.get("areas") or []),
                    departments=list(data.get("departments") or []),
                    rate_limit_per_minute=data.get("rate_limit_per_minute") or 0,
                )
                raise _DryRun
        except _DryRun:
            pass
        except WanggeError as error:
            raise forms.ValidationError(f"{error.zh} / {error.en}") from None
        return data


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Superusers issue and revoke keys; nobody edits a key (issue a new one and revoke the old)."""

    list_display = (
        "name",
        "prefix",
        "permissions",
        "rate_limit_per_minute",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix")
    actions = ["revoke_keys"]
    autocomplete_fields = ("areas", "departments")
    readonly_fields = ("prefix", "account", "created_by", "created_at", "last_used_at", "revoked_at")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked keys stay on record: demands name their service account

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = ApiKeyCreationForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ApiKeyCreationForm.Meta.fields
        return (
            "name",
            "prefix",
            "account",
            "areas",
            "departments",
            "permissions",
            "rate_limit_per_minute",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_fields(request, obj) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        """A new key goes through `api_key_create`; its raw value is shown in this one message only."""
        data = form.cleaned_data
        key, raw = api_key_create(
            name=data["name"],
            permissions=data["permissions"],
            areas=list(data.get("areas") or []),
            departments=list(data.get("departments") or []),
            rate_limit_per_minute=data["rate_limit_per_minute"],
            created_by=request.user,  # type: ignore[arg-type]
        )
        obj.pk = key.pk
        obj._state.adding = False
        obj.refresh_from_db()
        messages.warning(
            request,
            _("The key for %(name)s is shown this once; copy it now: %(key)s") % {"name": key.name, "key": raw},
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The service already set the areas and departments."""

    @admin.action(description=_("Revoke the selected keys"))
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(key=key)
        messages.success(request, _("The selected keys were revoked."))
