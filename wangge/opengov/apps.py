from django.apps import AppConfig


class OpengovConfig(AppConfig):
    name = "wangge.opengov"
    label = "opengov"
    verbose_name = "政务公开 Open government"
