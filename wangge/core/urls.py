from django.conf import settings
from django.urls import path
from django.utils.module_loading import import_string

from wangge.core import views

app_name = "core"
urlpatterns = [
    # The landing page knows roles and areas, so it lives in an app that may import them
    # (WANGGE_HOME_VIEW, dashboards by default); core names it through the setting and imports no app.
    path("", import_string(settings.WANGGE_HOME_VIEW), name="home"),
    path("healthz", views.healthz, name="healthz"),
]
