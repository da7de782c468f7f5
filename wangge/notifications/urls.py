from django.urls import path

from wangge.notifications import views

app_name = "notifications"
urlpatterns = [
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<int:pk>/", views.message_detail, name="message"),
]
