from django.urls import path

from wangge.projects import views

app_name = "projects"
urlpatterns = [
    path("", views.project_index, name="list"),
    path("<int:pk>/", views.project_detail, name="detail"),
    path("<int:pk>/report/", views.report_new, name="report"),
    path("checks/", views.check_index, name="checks"),
    path("checks/<int:pk>/", views.check_detail, name="check"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("public/", views.public, name="public"),
]
