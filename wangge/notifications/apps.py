from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    verbose_name = "通知 Notifications"
    name = "wangge.notifications"
    label = "notifications"
