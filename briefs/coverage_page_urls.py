"""The coverage check page, beside the code pages under /codes/."""

from django.urls import path

from briefs.coverage_pages import CoverageCheckPageView

urlpatterns = [
    path("<str:code>/check/", CoverageCheckPageView.as_view(), name="coverage-check-page"),
]
