app_name = "demands"
urlpatterns: list = []
