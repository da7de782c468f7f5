from django.urls import path

from wangge.visits import views

app_name = "visits"
urlpatterns = [
    # The grid leader's home (core:home sends grid leaders here).
    path("", views.workbench, name="workbench"),
    path("demands/<int:pk>/<str:move>/", views.demand_move, name="demand_move"),
    path("new/", views.visit_new, name="new"),
    path("log/", views.visit_list, name="list"),
    path("opinions/", views.opinions, name="opinions"),
    path("opinions/<int:pk>/follow-up/", views.opinion_follow_up, name="opinion_follow_up"),
    path("coverage/", views.coverage, name="coverage"),
    path("coverage/<int:pk>/", views.coverage, name="coverage_area"),
]
