"""URL map: admin, login, the read-only API, the CDS Hooks services and the internal pages."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("policyhub.api_urls")),
    path("", include("briefs.cds_urls")),
    path("codes/", include("briefs.coverage_page_urls")),
    path("codes/", include("briefs.urls")),
    path("payers/", include("payers.urls")),
    path("", include("policyhub.page_urls")),
]
