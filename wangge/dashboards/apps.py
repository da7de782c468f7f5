from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "wangge.dashboards"
    label = "dashboards"
    verbose_name = "指挥看板 Dashboards"
