from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "wangge.core"
    label = "core"
    verbose_name = "核心 Core"

    def ready(self) -> None:
        from wangge.core import checks, lookups  # noqa: F401  (register the system checks and `__any`)
