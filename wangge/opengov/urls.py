from django.urls import path

from wangge.opengov import views

app_name = "opengov"
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("new/", views.item_new, name="new"),
    path("items/<int:pk>/", views.item_detail, name="item"),
    path("files/<int:pk>/", views.attachment, name="attachment"),
    path("public/", views.public, name="public"),
    path("public/items/<int:pk>/", views.public_item, name="public_item"),
    path("public/stats/", views.stats, name="stats"),
]
