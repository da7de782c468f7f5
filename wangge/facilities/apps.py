from django.apps import AppConfig


class FacilitiesConfig(AppConfig):
    name = "wangge.facilities"
    label = "facilities"
    verbose_name = "所长制 Facility directors"
