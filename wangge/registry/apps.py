from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "wangge.registry"
    label = "registry"
    verbose_name = "网格台账 Registry"
