from django.apps import AppConfig


class TriageConfig(AppConfig):
    verbose_name = "智能分拨 Triage"
    name = "wangge.triage"
    label = "triage"
