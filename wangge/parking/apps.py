from django.apps import AppConfig


class ParkingConfig(AppConfig):
    name = "wangge.parking"
    label = "parking"
    verbose_name = "智慧停车 Smart parking"
