from django.urls import path

from wangge.parking import views

app_name = "parking"
urlpatterns = [
    path("", views.lot_index, name="lots"),
    path("lots/<int:pk>/", views.lot_detail, name="lot"),
    path("warden/", views.warden, name="warden"),
    path("what-if/", views.whatif, name="whatif"),
]
