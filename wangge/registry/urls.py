from django.urls import path

from wangge.registry import views
from wangge.registry.boundaries import views as boundary_views

app_name = "registry"
urlpatterns = [
    path("areas/", views.area_index, name="areas"),
    path("areas/<int:pk>/", views.area_detail, name="area"),
    path("households/", views.household_index, name="households"),
    path("households/<int:pk>/", views.household_detail, name="household"),
    path("households/<int:pk>/edit/", views.household_edit, name="household_edit"),
    path("household-moves/", views.move_queue, name="moves"),
    path("household-moves/<int:pk>/decide/", views.move_decide, name="move_decide"),
    path("grid-sizes/", views.grid_size_report, name="grid_sizes"),
    path("imports/", views.import_index, name="import"),
    path("imports/template.xlsx", views.import_template, name="import_template"),
    path("imports/<int:pk>/", views.import_job, name="import_job"),
    path("boundaries/", boundary_views.boundary_index, name="boundaries"),
    path("map/base.geojson", boundary_views.base_layer_view, name="base_layer"),
    path("map/tiles/<int:z>/<int:x>/<int:y>", boundary_views.tile_view, name="map_tile"),
]
