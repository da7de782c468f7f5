"""The short links in resident messages (/t/<code>), mounted at the site root to keep an SMS in one segment."""

from django.urls import path

from wangge.demands import views

app_name = "links"
urlpatterns = [
    path("<str:code>", views.short_link, name="demand"),
]
