from django.urls import path

from wangge.onestop import views

app_name = "onestop"
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("items/", views.item_index, name="items"),
    path("apply/", views.apply, name="apply"),
    path("applications/", views.application_index, name="applications"),
    path("applications/<int:pk>/", views.application_detail, name="application"),
    path("tasks/", views.task_index, name="tasks"),
    path("tasks/<int:pk>/", views.task_detail, name="task"),
    path("public/", views.public, name="public"),
]
