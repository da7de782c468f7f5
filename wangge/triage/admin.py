"""Back office for triage: rules, mapping and settings are edited here (through the services);
models are only activated or rolled back by the person using these actions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from wangge.core.errors import WanggeError
from wangge.triage import services
from wangge.triage.ml import mask_personal
from wangge.triage.models import KeywordRule, LabelMapping, TrainingExample, TriageModel, TriageSettings


@admin.register(TriageModel)
class TriageModelAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "version",
        "target",
        "is_active",
        "trained_on",
        "trained_rows",
        "cv_macro_f1",
        "auto_apply_threshold",
        "created_at",
        "activated_by",
        "activated_at",
    )
    list_filter = ("is_active", "target", "name")
    readonly_fields = (
        "name",
        "version",
        "target",
        "created_at",
        "created_by",
        "trained_on",
        "trained_rows",
        "labels",
        "params",
        "metrics",
        "sha256",
        "size_bytes",
        "is_active",
        "activated_by",
        "activated_at",
        "activated_via",
        "replaced",
    )
    exclude = ("file",)
    actions = ("activate", "rollback")

    def get_queryset(self, request: HttpRequest) -> QuerySet[TriageModel]:
        return super().get_queryset(request).defer("file")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # models come from triage_train

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("CV macro-F1"))
    def cv_macro_f1(self, obj: TriageModel) -> str:
        cv = (obj.metrics or {}).get("cv") or {}
        return f"{cv['macro_f1']:.4f}" if "macro_f1" in cv else "—"

    @admin.display(description=_("auto-apply threshold"))
    def auto_apply_threshold(self, obj: TriageModel) -> str:
        auto = (obj.metrics or {}).get("auto_apply") or {}
        if auto.get("threshold") is None:
            return "—"
        return f"{auto['threshold']:.3f} (P {auto['precision']:.3f}, {auto['coverage']:.0%})"

    @admin.action(description=_("Activate the selected model"))
    def activate(self, request: HttpRequest, queryset: QuerySet[TriageModel]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "请只选择一个模型 / select exactly one model", messages.ERROR)
            return
        try:
            model = services.triage_model_activate(model=queryset.get(), actor=request.user, via="admin")
        except WanggeError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"已启用 activated {model}", messages.SUCCESS)

    @admin.action(description=_("Roll back to the model the active one replaced"))
    def rollback(self, request: HttpRequest, queryset: QuerySet[TriageModel]) -> None:
        try:
            # The target (category or department) of the selected model; category when none is selected.
            chosen = queryset.first()
            target = chosen.target if chosen is not None else "category"
            model = services.triage_model_rollback(actor=request.user, via="admin", target=target)
        except WanggeError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"已回退到 rolled back to {model}", messages.SUCCESS)


class _ServiceAdmin(admin.ModelAdmin):
    """Saves go through the services (subclasses override save_model), so the checks and the
    cache refresh are the same as everywhere else."""


@admin.register(KeywordRule)
class KeywordRuleAdmin(_ServiceAdmin):
    list_display = (
        "pattern",
        "kind",
        "category_code",
        "department_code",
        "priority",
        "enabled",
        "auto_apply",
        "note",
        "updated_at",
    )
    list_filter = ("enabled", "auto_apply", "kind")
    search_fields = ("pattern", "category_code", "note")
    fields = ("pattern", "kind", "category_code", "department_code", "priority", "enabled", "auto_apply", "note")

    def save_model(self, request: HttpRequest, obj: KeywordRule, form: Any, change: bool) -> None:
        data = {f: form.cleaned_data[f] for f in self.fields}
        if change:
            fresh = KeywordRule.objects.get(pk=obj.pk)
            saved = services.keyword_rule_update(rule=fresh, actor=request.user, **data)
        else:
            saved = services.keyword_rule_create(actor=request.user, **data)
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: KeywordRule) -> None:
        services.keyword_rule_delete(rule=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[KeywordRule]) -> None:
        for rule in queryset:
            services.keyword_rule_delete(rule=rule, actor=request.user)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)

        class CheckedForm(form):  # type: ignore[misc,valid-type]
            # Check through the service before saving, so a bad regex or category shows on the form.
            def clean(self) -> dict[str, Any]:
                data = super().clean()
                if data is None:  # a clean() may return None and leave cleaned_data as it is
                    data = self.cleaned_data
                try:
                    services._check_pattern(data.get("pattern", ""), data.get("kind", "words"))
                    services._check_category(data.get("category_code", ""))
                    services._check_department(data.get("department_code", ""))
                except WanggeError as exc:
                    raise ValidationError(str(exc))
                return data

        return CheckedForm


@admin.register(LabelMapping)
class LabelMappingAdmin(_ServiceAdmin):
    list_display = ("label", "category_code", "department_code", "note")
    search_fields = ("label", "category_code")
    fields = ("label", "category_code", "department_code", "note")

    def save_model(self, request: HttpRequest, obj: LabelMapping, form: Any, change: bool) -> None:
        if change and obj.pk:
            old = LabelMapping.objects.get(pk=obj.pk)
            if old.label != form.cleaned_data["label"]:
                old.delete()
        saved = services.label_mapping_set(**{f: form.cleaned_data[f] for f in self.fields})
        obj.pk = saved.pk


@admin.register(TriageSettings)
class TriageSettingsAdmin(_ServiceAdmin):
    list_display = (
        "__str__",
        "auto_apply_confidence",
        "rules_auto_apply",
        "duplicate_threshold",
        "duplicate_window_days",
    )
    fields = ("auto_apply_confidence", "rules_auto_apply", "duplicate_threshold", "duplicate_window_days")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not TriageSettings.objects.exists()

    def save_model(self, request: HttpRequest, obj: TriageSettings, form: Any, change: bool) -> None:
        saved = services.triage_settings_update(**{f: form.cleaned_data[f] for f in self.fields})
        obj.pk = saved.pk


@admin.register(TrainingExample)
class TrainingExampleAdmin(admin.ModelAdmin):
    """Read-only: examples are written by triage_feedback."""

    list_display = ("masked_title", "category_code", "suggested_category_code", "accepted", "actor", "created_at")
    list_filter = ("accepted", "category_code")
    readonly_fields = (
        "demand",
        "masked_title",
        "category_code",
        "department_code",
        "suggested_category_code",
        "suggested_confidence",
        "accepted",
        "actor",
        "created_at",
    )
    exclude = ("title", "description")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("title"))
    def masked_title(self, obj: TrainingExample) -> str:
        return mask_personal(obj.title)
