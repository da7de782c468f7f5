from django.urls import path

from wangge.governance import views

app_name = "governance"
urlpatterns = [
    path("", views.public_index, name="public"),
    path("<int:pk>/", views.public_topic, name="public_topic"),
    path("manage/", views.topic_index, name="list"),
    path("manage/new/", views.topic_new, name="new"),
    path("manage/<int:pk>/", views.topic_detail, name="detail"),
    path("manage/<int:pk>/do/<str:action>/", views.topic_action, name="action"),
    path("manage/facilities/<int:pk>/proactive/", views.facility_proactive, name="facility_proactive"),
]
