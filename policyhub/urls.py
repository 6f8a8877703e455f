"""URL map: admin, login, the read-only API and the internal pages."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/review/", include("briefs.review_views")),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("policyhub.api_urls")),
    path("codes/", include("briefs.urls")),
    path("payers/", include("payers.urls")),
    path("", include("policyhub.page_urls")),
]
