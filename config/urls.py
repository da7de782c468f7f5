from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

from config.api import api

admin.site.site_header = "网格 Wangge 后台管理"
admin.site.site_title = "网格 Wangge"
admin.site.index_title = "后台管理 Back office"

urlpatterns = [
    path("", include("wangge.core.urls")),
    path("accounts/", include("wangge.accounts.urls")),
    path("registry/", include("wangge.registry.urls")),
    path("demands/", include("wangge.demands.urls")),
    path("notifications/", include("wangge.notifications.urls")),
    path("triage/", include("wangge.triage.urls")),
    path("onestop/", include("wangge.onestop.urls")),
    path("parking/", include("wangge.parking.urls")),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    urlpatterns += [path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT})]
