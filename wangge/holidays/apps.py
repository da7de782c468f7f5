from django.apps import AppConfig


class HolidaysConfig(AppConfig):
    name = "wangge.holidays"
    label = "holidays"
    verbose_name = "节假日 Holiday calendar"

    def ready(self) -> None:
        from wangge.holidays import checks  # noqa: F401  (registers the coverage check)
