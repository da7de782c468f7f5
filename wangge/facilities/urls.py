from django.urls import path

from wangge.facilities import views

app_name = "facilities"
urlpatterns = [
    path("", views.facility_index, name="list"),
    path("<int:pk>/", views.facility_detail, name="facility"),
    path("<int:pk>/inspect/", views.inspect, name="inspect"),
    path("inspections/<int:pk>/", views.inspection_detail, name="inspection"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("records/", views.records, name="records"),
]
