from django.urls import path

from wangge.wechat import views

app_name = "wechat"

urlpatterns = [
    path("callback/", views.callback, name="callback"),
]
