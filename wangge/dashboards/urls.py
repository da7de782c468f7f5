from django.urls import path

from wangge.dashboards import views

app_name = "dashboards"
urlpatterns = [
    # Service-centre console (staff work pages; moves go through the demand services).
    path("console/", views.console, name="console"),
    path("console/<int:pk>/", views.console_demand, name="console_demand"),
    path("console/<int:pk>/comments/", views.console_comments, name="console_comments"),
    path("console/<int:pk>/reply/", views.console_reply, name="console_reply"),
    # City command dashboard (desk and big screen), its map data and the monthly ranking.
    path("", views.dashboard, name="dashboard"),
    path("screen/", views.screen, name="screen"),
    path("map.json", views.map_data, name="map_data"),
    path("ranking/", views.ranking, name="ranking"),
    # Reports and exports.
    path("report/", views.report, name="report"),
    path("report.xlsx", views.report_xlsx, name="report_xlsx"),
    path("exports/", views.export_list, name="exports"),
    path("exports/<int:pk>/", views.export_detail, name="export"),
    path("exports/<int:pk>/download/", views.export_download, name="export_download"),
    # Open government (政务公开): no account, counts only.
    path("public/", views.public, name="public"),
]
