"""Open311 GeoReport v2 routes: one named route per resource and format (`services_json`, `request_xml`, …)."""

from django.urls import path, re_path

from wangge.open311 import views

app_name = "open311"

urlpatterns = [path("discovery.html", views.discovery_html, name="discovery_html")]
for _fmt in ("json", "xml"):
    urlpatterns += [
        path(f"discovery.{_fmt}", views.discovery, {"fmt": _fmt}, name=f"discovery_{_fmt}"),
        path(f"services.{_fmt}", views.services, {"fmt": _fmt}, name=f"services_{_fmt}"),
        path(f"services/<str:code>.{_fmt}", views.service_definition, {"fmt": _fmt}, name=f"service_{_fmt}"),
        path(f"requests.{_fmt}", views.requests_, {"fmt": _fmt}, name=f"requests_{_fmt}"),
        path(f"requests/<str:code>.{_fmt}", views.request_detail, {"fmt": _fmt}, name=f"request_{_fmt}"),
        path(f"tokens/<str:token>.{_fmt}", views.token, {"fmt": _fmt}, name=f"token_{_fmt}"),
        path(f"servicerequestupdates.{_fmt}", views.request_updates, {"fmt": _fmt}, name=f"updates_{_fmt}"),
    ]
# Any other extension gets the reference server's answer (no name: not a page to walk).
urlpatterns.append(
    re_path(
        r"^(?:discovery|services|requests|servicerequestupdates|services/[^/]+|requests/[^/]+|tokens/[^/]+)\.(?P<fmt>\w+)$",
        views.discovery,
    )
)
