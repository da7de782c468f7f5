from django.apps import AppConfig


class OnestopConfig(AppConfig):
    name = "wangge.onestop"
    label = "onestop"
    verbose_name = "一件事一次办 One-stop services"
