from django.apps import AppConfig


class Open311Config(AppConfig):
    verbose_name = "Open311 GeoReport v2"
    name = "wangge.open311"
    label = "open311"
