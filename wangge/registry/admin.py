"""Back office (Django admin) for the registry: scoped lists, masked personal data, writes by services.

Three rules hold on every page here:

- Lists and lookups are scoped: a staff user who is not a superuser sees only rows inside
  `scope_for(user)`, in lists, change pages, autocomplete answers and foreign-key choices alike.
- Phones and ID numbers are masked in lists and forms; an ID number is never shown decrypted.
- A write that a rule governs goes through the registry service that keeps the rule
  (`household_create`, `household_move`, `household_delete`, `area_create`, `area_move`, …).
  The form first runs the service inside a savepoint that is rolled back, so a refusal (the 31st
  household of a grid) comes back as a bilingual form error; then `save_model` runs it for real.

Auditors may look, never change. Department staff see their department and no area.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import Role, User
from wangge.accounts.scope import scope_for
from wangge.core.errors import WanggeError
from wangge.core.masking import decrypt, mask_id_number, mask_phone
from wangge.registry import services
from wangge.registry.models import Area, CareTag, Department, Household, Level, Person

# Roles that keep the register (add, change, move, remove) inside their own scope.
WRITE_ROLES = frozenset({Role.CITY_ADMIN, Role.TOWN, Role.VILLAGE})


class _DryRun(Exception):
    """Raised inside a savepoint to undo a service call that only checked the rules."""


def _message(error: WanggeError) -> str:
    return f"{error.zh} / {error.en}"


class ServiceForm(forms.ModelForm):
    """A model form whose writes are made by a registry service.

    `apply()` performs the write. `clean()` calls it inside a savepoint that is always rolled
    back, so every rule the service enforces is checked against the real database and reported
    next to the field; `ServiceAdmin.save_model` then calls `apply()` once more for real (if a
    concurrent change makes it fail there, the transaction rolls back and the error page says why).
    """

    # Service argument name -> form field name, for placing an error next to its field.
    error_fields: dict[str, str] = {}

    def apply(self) -> Any:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            with transaction.atomic():
                self.apply()
                raise _DryRun
        except _DryRun:
            pass
        except WanggeError as error:
            name = self.error_fields.get(error.field or "", error.field)
            self.add_error(name if name in self.fields else None, _message(error))
        return cleaned


class ScopedAdmin(admin.ModelAdmin):
    """Lists, pages and lookups limited to the acting user's scope; role decides who may write."""

    scope_field = "area_path"
    show_full_result_count = False  # one COUNT per list page, not two
    show_facets = admin.ShowFacets.NEVER  # facet counts are a COUNT per filter choice
    list_per_page = 50

    def scope_q(self, request: HttpRequest) -> Q:
        return scope_for(request.user).area_q(self.scope_field)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).filter(self.scope_q(request))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # A posted id outside the scope must fail validation, not only be missing from the widget.
        scope = scope_for(request.user)
        if db_field.related_model is Area:
            kwargs["queryset"] = Area.objects.filter(scope.area_q("path"))
        elif db_field.related_model is Person:
            kwargs["queryset"] = Person.objects.filter(scope.area_q("area_path"))
        elif db_field.related_model is User:
            kwargs["queryset"] = User.objects.filter(
                scope.area_q("scopes__area__path") | scope.department_q("scopes__department_id")
            ).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _staff(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff)

    def _writer(self, request: HttpRequest) -> bool:
        user = request.user
        if not self._staff(request):
            return False
        if user.is_superuser:
            return True
        return not scope_for(user).read_only and getattr(user, "role", "") in WRITE_ROLES

    def _covers(self, request: HttpRequest, obj: Any) -> bool:
        return obj is None or scope_for(request.user).covers_path(getattr(obj, self.scope_field) or "")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._staff(request) and self._covers(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._writer(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._writer(request) and self._covers(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._writer(request) and self._covers(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """The form's service call, for real; the saved row's values are copied onto `obj`."""
        saved = form.apply()
        if saved is not None and saved is not obj:
            for f in obj._meta.concrete_fields:
                setattr(obj, f.attname, getattr(saved, f.attname))
            obj._state.adding = False


# --- areas ------------------------------------------------------------------------------------


class AreaForm(ServiceForm):
    error_fields = {"level": "level", "code": "code", "parent": "parent", "grid": "leader"}

    class Meta:
        model = Area
        fields = ["level", "code", "name", "parent", "number", "leader", "boundary", "centre_lat", "centre_lng"]

    def apply(self) -> Area:
        data = self.cleaned_data
        if self.instance.pk is None:
            area = services.area_create(
                level=data["level"],
                code=data["code"],
                name=data["name"],
                parent=data.get("parent"),
                number=data.get("number"),
                boundary=data.get("boundary"),
                centre_lat=data.get("centre_lat"),
                centre_lng=data.get("centre_lng"),
            )
        else:
            area = Area.objects.get(pk=self.instance.pk)
            parent = data.get("parent", area.parent)
            if parent is not None and parent.pk != area.parent_id:
                area = services.area_move(area=area, new_parent=parent)
            plain = {k: data[k] for k in ("name", "number", "boundary", "centre_lat", "centre_lng") if k in data}
            area = services.area_update(area=area, **plain)
        leader = data.get("leader")
        if leader is not None and leader.pk != area.leader_id:
            area = services.grid_set_leader(grid=area, leader=leader)
        return area


@admin.register(Area)
class AreaAdmin(ScopedAdmin):
    form = AreaForm
    scope_field = "path"
    list_display = ("tree_name", "level", "code", "household_count", "leader_col", "path")
    list_filter = ("level",)
    search_fields = ("name", "^code")
    list_select_related = ("leader",)
    autocomplete_fields = ("parent", "leader")
    ordering = ("path",)

    @admin.display(description=_("name"), ordering="path")
    def tree_name(self, obj: Area) -> str:
        return "\u3000" * obj.depth + obj.name

    @admin.display(description=_("leader"))
    def leader_col(self, obj: Area) -> str:
        if obj.leader is None:
            return ""
        return f"{obj.leader.name} {obj.leader.phone_masked}"

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["level", "code", "name", "parent", "number", "boundary", "centre_lat", "centre_lng"]
        fields = ["level", "code", "path", "name", "parent", "number", "household_count"]
        if obj.level == Level.GRID:
            fields.append("leader")
        return [*fields, "boundary", "centre_lat", "centre_lng"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        # The code is the area's identity in every path below it; the level is fixed by the tree.
        return ["level", "code", "path", "household_count"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Areas are never deleted here: households, people and history hang below them.
        return False


# --- departments ------------------------------------------------------------------------------


class DepartmentForm(ServiceForm):
    error_fields = {"area": "area"}

    class Meta:
        model = Department
        fields = ["code", "name", "area", "phone", "is_active"]

    def apply(self) -> Department:
        data = self.cleaned_data
        if self.instance.pk is None:
            department = services.department_create(
                code=data["code"], name=data["name"], city=data["area"], phone=data.get("phone", "")
            )
            if not data.get("is_active", True):
                department = services.department_update(department=department, is_active=False)
            return department
        return services.department_update(
            department=Department.objects.get(pk=self.instance.pk),
            name=data["name"],
            phone=data.get("phone", ""),
            is_active=data.get("is_active", True),
        )


@admin.register(Department)
class DepartmentAdmin(ScopedAdmin):
    form = DepartmentForm
    list_display = ("code", "name", "phone_col", "is_active")
    search_fields = ("name", "^code")
    list_filter = ("is_active",)
    autocomplete_fields = ("area",)

    def scope_q(self, request: HttpRequest) -> Q:
        # Department staff see their own department; area staff see the departments of a city they cover.
        scope = scope_for(request.user)
        return scope.department_q("id") | scope.area_q("area_path")

    def _covers(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return True
        scope = scope_for(request.user)
        return scope.covers_department(obj.pk) or scope.covers_path(obj.area_path)

    def _writer(self, request: HttpRequest) -> bool:
        # Departments belong to the city: only a city administrator (or a superuser) keeps them.
        user = request.user
        return self._staff(request) and (
            user.is_superuser or (getattr(user, "role", "") == Role.CITY_ADMIN and not scope_for(user).read_only)
        )

    @admin.display(description=_("phone"))
    def phone_col(self, obj: Department) -> str:
        return mask_phone(obj.phone)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["code", "area"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # demands point at departments; switch one off with "active" instead


# --- people -----------------------------------------------------------------------------------


class PersonForm(ServiceForm):
    new_phone = forms.CharField(
        label=_("phone"), required=False, max_length=20, help_text=_("Leave blank to keep the current number.")
    )
    id_number = forms.CharField(
        label=_("ID number"), required=False, max_length=18, help_text=_("Stored encrypted; never shown again.")
    )
    error_fields = {"phone": "new_phone", "id_number": "id_number", "name": "name"}

    class Meta:
        model = Person
        fields = ["name", "is_party_member", "party_joined_on", "branch", "user"]

    def apply(self) -> Person:
        data = self.cleaned_data
        if self.instance.pk is None:
            person = services.person_create(
                name=data["name"],
                phone=data.get("new_phone", ""),
                id_number=data.get("id_number", ""),
                is_party_member=data.get("is_party_member", False),
                branch=data.get("branch"),
                user=data.get("user"),
            )
            if data.get("party_joined_on"):
                person = services.person_update(person=person, party_joined_on=data["party_joined_on"])
            return person
        return services.person_update(
            person=Person.objects.get(pk=self.instance.pk),
            name=data["name"],
            is_party_member=data.get("is_party_member", False),
            party_joined_on=data.get("party_joined_on"),
            phone=data["new_phone"] if data.get("new_phone") else None,
        )


@admin.register(Person)
class PersonAdmin(ScopedAdmin):
    form = PersonForm
    list_display = ("name", "phone_col", "id_col", "is_party_member", "branch")
    list_select_related = ("branch",)
    list_filter = ("is_party_member",)
    search_fields = ("name", "=phone")
    autocomplete_fields = ("branch", "user")
    ordering = ("area_path", "id")

    @admin.display(description=_("phone"))
    def phone_col(self, obj: Person) -> str:
        return obj.phone_masked

    @admin.display(description=_("ID number"))
    def id_col(self, obj: Person) -> str:
        return mask_id_number(decrypt(obj.id_number_enc))

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["name", "new_phone", "id_number", "is_party_member", "party_joined_on", "branch", "user"]
        return ["name", "phone_col", "new_phone", "id_col", "is_party_member", "party_joined_on", "branch", "user"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Moving a person to another branch changes their path: no service does that yet.
        return ["phone_col", "id_col", "branch", "user"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # grid leaders and visit records refer to people


# --- households -------------------------------------------------------------------------------


class HouseholdForm(ServiceForm):
    new_phone = forms.CharField(
        label=_("phone"), required=False, max_length=20, help_text=_("Leave blank to keep the current number.")
    )
    id_number = forms.CharField(
        label=_("head's ID number"),
        required=False,
        max_length=18,
        help_text=_("Stored encrypted; never shown again."),
    )
    tags = forms.MultipleChoiceField(
        label=_("care tags"), choices=CareTag.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    error_fields = {"phone": "new_phone", "head_id_number": "id_number", "care_tags": "tags"}

    class Meta:
        model = Household
        fields = ["grid", "address", "head_name", "members"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["tags"].initial = self.instance.tag_list

    def apply(self) -> Household:
        data = self.cleaned_data
        tags = list(data.get("tags") or [])
        if self.instance.pk is None:
            return services.household_create(
                grid=data["grid"],
                address=data["address"],
                head_name=data["head_name"],
                phone=data.get("new_phone", ""),
                id_number=data.get("id_number", ""),
                members=data["members"],
                care_tags=tags,
            )
        household = Household.objects.select_related("grid").get(pk=self.instance.pk)
        # Who changed it goes into the household's history (`HouseholdAdmin.get_form` sets the user).
        by = getattr(self, "user", None)
        if data["grid"].pk != household.grid_id:
            household = services.household_move_direct(household=household, grid=data["grid"], by=by)
        return services.household_update(
            household=household,
            by=by,
            version=household.version,
            address=data["address"],
            head_name=data["head_name"],
            phone=data.get("new_phone") or None,
            members=data["members"],
            care_tags=tags,
        )


class CareTagFilter(admin.SimpleListFilter):
    title = _("care tags")
    parameter_name = "tag"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return list(CareTag.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Household]) -> QuerySet[Household]:
        value = self.value()
        if value in CareTag.values:
            return queryset.filter(care_tags__contains="," + value + ",")
        return queryset


@admin.register(Household)
class HouseholdAdmin(ScopedAdmin):
    form = HouseholdForm
    list_display = ("head_name", "address", "phone_col", "id_col", "members", "tags_col", "grid")
    list_select_related = ("grid",)
    list_filter = (CareTagFilter,)
    search_fields = ("head_name", "address", "=phone")
    autocomplete_fields = ("grid",)
    ordering = ("area_path", "id")

    @admin.display(description=_("phone"))
    def phone_col(self, obj: Household) -> str:
        return obj.phone_masked

    @admin.display(description=_("head's ID number"))
    def id_col(self, obj: Household) -> str:
        return mask_id_number(decrypt(obj.head_id_number_enc))

    @admin.display(description=_("care tags"))
    def tags_col(self, obj: Household) -> str:
        return "、".join(obj.tag_labels())

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["grid", "address", "head_name", "new_phone", "id_number", "members", "tags"]
        return ["grid", "address", "head_name", "phone_col", "new_phone", "id_col", "members", "tags"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["phone_col", "id_col"] if obj is not None else []

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)  # a new class per request
        form.user = request.user  # type: ignore[attr-defined]
        return form

    def delete_model(self, request: HttpRequest, obj: Household) -> None:
        services.household_delete(household=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Household]) -> None:
        # One service call per household, so every grid's count gives its place back.
        for household in queryset.select_related("grid"):
            services.household_delete(household=household)
