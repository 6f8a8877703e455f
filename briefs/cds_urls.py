"""CDS Hooks 2.0 routes, at the service's base URL as the specification fixes them (no trailing slash)."""

from django.urls import path

from briefs.api.cds_hooks import DiscoveryView, ServiceView

app_name = "cds"
urlpatterns = [
    path("cds-services", DiscoveryView.as_view(), name="discovery"),
    path("cds-services/<str:service_id>", ServiceView.as_view(), name="service"),
]
