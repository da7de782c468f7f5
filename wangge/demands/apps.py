from django.apps import AppConfig


class DemandsConfig(AppConfig):
    verbose_name = "诉求 Demands"
    name = "wangge.demands"
    label = "demands"

    def ready(self) -> None:
        from wangge.demands import checks  # noqa: F401  (registers the partition check)
