from django.apps import AppConfig


class DemandsConfig(AppConfig):
    verbose_name = "诉求 Demands"
    name = "wangge.demands"
    label = "demands"
