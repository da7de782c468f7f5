app_name = "onestop"
urlpatterns: list = []
