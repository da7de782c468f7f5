from django.contrib import admin
from django.urls import include, path

from config.api import api

admin.site.site_header = "网格 Wangge 后台管理"
admin.site.site_title = "网格 Wangge"
admin.site.index_title = "后台管理 Back office"

urlpatterns = [
    path("", include("wangge.core.urls")),
    path("accounts/", include("wangge.accounts.urls")),
    path("registry/", include("wangge.registry.urls")),
    path("demands/", include("wangge.demands.urls")),
    path("t/", include("wangge.demands.short_urls")),  # short links in SMS: /t/<10 characters>
    path("notifications/", include("wangge.notifications.urls")),
    path("triage/", include("wangge.triage.urls")),
    path("visits/", include("wangge.visits.urls")),
    path("projects/", include("wangge.projects.urls")),
    path("facilities/", include("wangge.facilities.urls")),
    path("onestop/", include("wangge.onestop.urls")),
    path("opengov/", include("wangge.opengov.urls")),
    path("parking/", include("wangge.parking.urls")),
    path("topics/", include("wangge.governance.urls")),  # 每月一题: the public list, the staff pages under manage/
    path("dashboards/", include("wangge.dashboards.urls")),
    path("api/v1/", api.urls),
    path("open311/v2/", include("wangge.open311.urls")),
    path("wechat/", include("wangge.wechat.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

# No public /media/: uploads (demand photos, imports) are personal data and are served only by
# scoped views of their apps.
