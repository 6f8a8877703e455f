"""URL map: admin, login, the read-only API, the CDS Hooks services, health checks and the internal pages."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from policyhub import health

# Password reset sends mail, so its pages exist only where mail is configured (EMAIL_HOST).
account_urls = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
]
if settings.EMAIL_HOST:
    account_urls += [
        path("password_reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
        path("password_reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
        path("reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
        path("reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    ]

handler404 = "policyhub.errors.page_not_found"
handler500 = "policyhub.errors.server_error"

urlpatterns = [
    path("admin/review/", include("briefs.review_views")),
    path("admin/", admin.site.urls),
    path("accounts/", include(account_urls)),
    path("api/", include("policyhub.api_urls")),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("", include("briefs.cds_urls")),
    path("codes/", include("briefs.coverage_page_urls")),
    path("codes/", include("briefs.urls")),
    path("payers/", include("payers.urls")),
    path("", include("policyhub.page_urls")),
]
