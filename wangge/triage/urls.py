app_name = "triage"
urlpatterns: list = []
