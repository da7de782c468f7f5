from django.urls import path

from wangge.demands import views

app_name = "demands"
urlpatterns = [
    # Residents (no account): the report page, its place picker, the private tracking page.
    path("report/", views.report, name="report"),
    path("report/places/", views.places, name="places"),
    path("t/<str:token>/", views.track, name="track"),
    path("t/<str:token>/photos/<int:pk>/", views.track_photo, name="track_photo"),
    # A neighbour who reported the same problem follows it by a token of their own.
    path("f/<str:token>/", views.follow_track, name="follow_track"),
    # Lost the link: find a demand by its code and the phone, proven by a one-time SMS code.
    path("lookup/", views.lookup, name="lookup"),
    # Staff.
    path("", views.demand_index, name="list"),
    path("new/", views.demand_new, name="new"),
    path("<int:pk>/", views.demand_detail, name="detail"),
    path("<int:pk>/move/<str:move>/", views.demand_move, name="move"),
    path("<int:pk>/category/", views.demand_set_category, name="set_category"),
    path("new/suggestion/", views.category_suggestion, name="suggestion"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    # 公开审核: what the public reads of each demand (town staff, city administrators; auditors read).
    path("publishing/", views.publishing, name="publishing"),
    path("grids/<int:pk>/qr.png", views.grid_qr, name="grid_qr"),
    # 督办/催办 and 协办 (views/cohandling.py).
    path("<int:pk>/urge/", views.demand_urge, name="urge"),
    path("<int:pk>/assists/", views.demand_assist_add, name="assist_add"),
    path("assists/<int:assist_pk>/reply/", views.demand_assist_reply, name="assist_reply"),
    path("assists/", views.assist_tasks, name="assist_tasks"),
    # 核查 (views/verification.py).
    path("verify/", views.verify_queue_page, name="verify_queue"),
    path("areas/<int:pk>/qr-sheet/", views.grid_qr_sheet, name="grid_qr_sheet"),
    # 延期 and 挂起: the holder's requests and resuming, the decision of the level above, its queue (待审批).
    path("<int:pk>/request/<str:move>/", views.demand_request, name="request"),
    path("<int:pk>/decide/", views.request_decide, name="decide"),
    path("requests/", views.requests_to_decide, name="requests"),
    path("hotline/", views.hotline_results, name="hotline_results"),
    path("hotline/jobs/<int:pk>/", views.hotline_job, name="hotline_job"),
]
